"""/api/v1/docs: the API reference, rendered on the server from the OpenAPI document.

Every operation is listed by tag with its parameters, request body fields and responses;
a small same-origin script (static/js/api_docs.mjs) adds "Try it" forms that call the API
with the signed-in session (reading) or a pasted token (changes). No CDN, no inline script:
the app's Content-Security-Policy stays 'self' only.
"""
from __future__ import annotations

import re

from flask import Blueprint, Flask, current_app, render_template

bp = Blueprint("api_docs_page", __name__)
METHODS = ("get", "post", "put", "delete", "patch")


def _resolve(spec: dict, schema: dict | None) -> dict:
    if not schema:
        return {}
    seen = 0
    while "$ref" in schema and seen < 10:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec.get("components", {}).get("schemas", {}).get(name, {})
        seen += 1
    return schema


def _type(spec: dict, schema: dict) -> str:
    schema = _resolve(spec, schema)
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {_type(spec, schema.get('items', {}))}"
    if schema.get("enum"):
        return " | ".join(str(v) for v in schema["enum"] if v is not None)
    text = f"{kind} ({schema['format']})" if schema.get("format") else kind
    return f"{text}, may be null" if schema.get("nullable") else text


def _fields(spec: dict, schema: dict | None) -> list[dict]:
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    return [{"name": name, "type": _type(spec, prop), "required": name in required,
             "description": _resolve(spec, prop).get("description") or prop.get("description", "")}
            for name, prop in (schema.get("properties") or {}).items()]


def _json_body(content: dict | None) -> dict | None:
    return (content or {}).get("application/json", {}).get("schema")


def operations(spec: dict) -> list[tuple[dict, list[dict]]]:
    """[(tag, [operation])] in the document's order."""
    by_tag: dict[str, list[dict]] = {t["name"]: [] for t in spec.get("tags", [])}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": _type(spec, p.get("schema", {})),
                       "description": p.get("description", "")}
                      for p in shared + op.get("parameters", [])]
            body = _json_body(op.get("requestBody", {}).get("content"))
            responses = []
            for code, response in op.get("responses", {}).items():
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[-1]
                    response = spec.get("components", {}).get("responses", {}).get(name, {})
                responses.append({"code": code, "description": response.get("description", ""),
                                  "fields": _fields(spec, _json_body(response.get("content")))})
            responses.sort(key=lambda r: (r["code"] == "default", r["code"]))
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "params": params,
                "body": _fields(spec, body) if body else None,
                "id": f"{method}-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-"),
                "responses": responses})
    tags = {t["name"]: t for t in spec.get("tags", [])}
    return [(tags.get(name, {"name": name, "description": ""}), ops)
            for name, ops in by_tag.items() if ops]


def paragraphs(text: str) -> list[list[tuple[bool, str]]]:
    """Plain paragraphs with `code` spans, as (is_code, text) pieces (escaped by Jinja)."""
    found = []
    for block in text.strip().split("\n\n"):
        pieces = block.replace("\n", " ").replace("*", "").split("`")
        found.append([(index % 2 == 1, piece) for index, piece in enumerate(pieces) if piece])
    return found


@bp.get("/api/v1/docs")
def page():
    spec = current_app.extensions["pace_api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, groups=operations(spec),
                           intro=paragraphs(spec.get("info", {}).get("description", "")))


def init_app(app: Flask, api) -> None:
    app.register_blueprint(bp)
