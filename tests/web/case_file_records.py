"""A case note and an attachment on the north child, for the RBAC matrices and the pages'
route list (tests/web/test_rbac.py, page_routes.py), written through the services."""
from __future__ import annotations

from types import SimpleNamespace

from engine.models import UserAccount
from tests.casework_files import PDF
from workflows.services import attachments, case_notes


def _author(session, world):
    account = session.get(UserAccount, world.users["sw.north"])
    return SimpleNamespace(id=account.id, username=account.username,
                           roles=tuple(account.roles), team=account.team)


def new_note(world) -> int:
    """A note sw.north wrote just now (so still theirs to change for 15 minutes)."""
    with world.database.transaction() as session:
        return case_notes.add_to_child(session, _author(session, world),
                                       world.children["north"], "A note for the matrix").id


def attachment(world) -> int:
    """A PDF on the north child, attached once per world."""
    found = world.__dict__.get("case_file_attachment")
    if found is None:
        with world.database.transaction() as session:
            found = attachments.upload_to_child(
                session, _author(session, world), world.database.settings.attachments,
                world.children["north"], "matrix.pdf", PDF).id
        world.__dict__["case_file_attachment"] = found
    return found


def values(world, template: str) -> dict[str, int]:
    """``note`` and ``attachment`` for a route template that names them."""
    found = {}
    if "{note}" in template:
        found["note"] = new_note(world)
    if "{attachment}" in template:
        found["attachment"] = attachment(world)
    return found
