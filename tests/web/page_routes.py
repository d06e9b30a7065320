"""The pages' GET routes as the app's URL map lists them, filled with a world's records.

For tests that go over every page (tests/web/test_page_fuzz.py, test_csv_exports.py): a
page added later is covered without touching them. ``records`` makes, once per world, a
record for every kind of path argument (an import job with a non-Latin-1 file name and a
rejected row, a process-model draft, a PDSA cycle), and ``first_user`` finds who may open a
route by asking the route itself.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from engine.models import ProcessModel
from web import create_app
from workflows.caseload import jobs as caseload_jobs
from workflows.process_models import drafts as model_drafts
from workflows.measures import pdsa

from . import case_file_records, document_records
from .conftest import cached_client

# Tried in this order; "anonymous" last, for the sign-in page.
USERS = ("manager", "tl.north", "sw.north", "auditor", "owner", "admin", "anonymous")
IMPORT_FILE_NAME = "caseload-Ŝkye-€-日本.csv"  # not Latin-1: Content-Disposition must cope
IMPORT_REJECTED_NAME = '=HYPERLINK("http://x","Open")'


def page_rules() -> list[str]:
    """Every GET route of the pages (not the JSON API, not static files), as rule text."""
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "x"})
    try:
        return sorted({rule.rule for rule in app.url_map.iter_rules()
                       if "GET" in rule.methods and rule.endpoint != "static"
                       and not rule.rule.startswith("/api/")})
    finally:
        app.extensions["pace_db"].engine.dispose()


def records(world) -> dict[str, object]:
    """A value for every path argument of the pages: real records, made once per world."""
    found = getattr(world, "route_records", None)
    if found is not None:
        return found
    rejected = ("reference,name,team,legal_status,LA_START\r\n"
                f"-F1,\"{IMPORT_REJECTED_NAME.replace(chr(34), chr(34) * 2)}\",nowhere,"
                "accommodated,2026-01-01\r\n").encode()
    job_id, _ = caseload_jobs.check_upload(world.database, IMPORT_FILE_NAME, rejected, "admin")
    with world.database.transaction() as session:
        model = session.scalars(select(ProcessModel).where(
            ProcessModel.process_id == "permanence_journey").order_by(ProcessModel.version)).first()
        draft = model_drafts.copy_version(session, model, "owner")
        cycle = pdsa.record_cycle(session, pdsa.CycleInput(
            aim=2, change_idea="Routes", cycle_number=1, start_date=date(2025, 1, 1)), "owner")
        made = {"draft_id": draft.id, "cycle_id": cycle.id}
    made.update(note_id=case_file_records.new_note(world),
                attachment_id=case_file_records.attachment(world),
                document_id=document_records.document(world), name="legal_referral.docx")
    world.route_records = {"subject_id": world.children["north"], "item_id": world.tasks["north"],
                           "job_id": job_id, "process_id": "permanence_journey", "version": 1,
                           "aim": 2, "profile": "scotland", "username": "sw2.north",
                           "code": "north", **made}
    return world.route_records


def path(world, rule: str, text: str | None = None) -> str:
    """``rule`` with each ``<converter:name>`` replaced by the world's record (each text
    argument by ``text`` when given: already URL-encoded)."""
    values = records(world)

    def value(match) -> str:
        if text is not None and not match.group(0).startswith("<int"):
            return text
        assert match.group(1) in values, f"{rule}: give page_routes.records a {match.group(1)}"
        return str(values[match.group(1)])
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", value, rule)


# Sign-in through a provider: 404 for everyone in a world without one (tests/oidc goes over
# them with a provider configured).
WITHOUT_PROVIDER = ("/sign-in/oidc", "/sign-in/oidc/callback")


def first_user(world, url: str) -> str:
    """The first of USERS the route answers with a page (200), else with a redirect that is
    not to the sign-in page."""
    if url in WITHOUT_PROVIDER:
        return "anonymous"
    fallback = None
    for user in USERS:
        response = cached_client(world, user).get(url)
        if response.status_code == 200:
            return user
        if fallback is None and response.status_code in (301, 302, 303) \
                and "/sign-in" not in response.headers.get("Location", ""):
            fallback = user
    assert fallback is not None, f"no demo user can open {url}"
    return fallback
