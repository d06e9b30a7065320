"""A generated document on the north team's child at the legal opinion (its legal referral
completed), for the RBAC matrices (tests/web/test_rbac.py, test_api_rbac.py): ``{t_done}``
is that completed referral, ``{document}`` its referral for legal advice, made once per world
through the service as a worker of the team would."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from engine.models import UserAccount, WorkItem
from workflows.services import documents


def done_referral(world) -> int:
    with world.database.transaction() as session:
        return session.scalar(select(WorkItem.id).where(
            WorkItem.subject_id == world.children["north_legal"],
            WorkItem.task_name == "legal_referral", WorkItem.status == "completed"))


def document(world) -> int:
    found = world.__dict__.get("generated_document")
    if found is None:
        item_id = done_referral(world)
        with world.database.transaction() as session:
            account = session.get(UserAccount, world.users["sw.north"])
            worker = SimpleNamespace(id=account.id, username=account.username,
                                     roles=tuple(account.roles), team=account.team)
            found = documents.make(session, world.database.runtime, worker, item_id).id
        world.__dict__["generated_document"] = found
    return found


def values(world, template: str) -> dict[str, int]:
    found = {}
    if "{t_done}" in template:
        found["t_done"] = done_referral(world)
    if "{document}" in template:
        found["document"] = document(world)
    return found
