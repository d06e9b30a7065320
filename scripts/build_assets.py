"""Build the front-end assets into web/static/vendor (gitignored) from pinned npm packages.

Called by ``make assets`` after ``npm ci``. Sass compiles GOV.UK Frontend with PACE Flow's
settings (no GOV.UK font or crown); the JavaScript and images are copied as shipped, so no
page ever loads anything from a CDN.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOVUK = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
OUT = ROOT / "web" / "static" / "vendor"
IMAGES = ("favicon.ico", "favicon.svg", "govuk-icon-mask.svg", "govuk-icon-180.png", "govuk-crest.svg")


def build() -> Path:
    if not GOVUK.is_dir():
        sys.exit("node_modules/govuk-frontend is missing: run `npm ci` (or `make assets`) first")
    OUT.mkdir(parents=True, exist_ok=True)
    sass = ROOT / "node_modules" / ".bin" / "sass"
    subprocess.run([str(sass), "--no-source-map", "--style=compressed", "--quiet-deps",
                    f"--load-path={ROOT / 'node_modules'}",
                    str(ROOT / "web" / "assets" / "app.scss"), str(OUT / "app.css")], check=True)
    shutil.copy2(GOVUK / "govuk-frontend.min.js", OUT / "govuk-frontend.min.js")
    shutil.copy2(ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js", OUT / "chart.umd.js")
    bpmn = ROOT / "node_modules" / "bpmn-js" / "dist"
    for name in ("bpmn-navigated-viewer.production.min.js", "bpmn-modeler.production.min.js"):
        shutil.copy2(bpmn / name, OUT / name)
    shutil.copytree(bpmn / "assets", OUT / "bpmn-js", dirs_exist_ok=True)
    images = OUT / "assets" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for name in IMAGES:
        shutil.copy2(GOVUK / "assets" / "images" / name, images / name)
    return OUT


if __name__ == "__main__":
    print(f"assets built in {build().relative_to(ROOT)}")
