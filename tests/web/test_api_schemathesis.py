"""Property-based run of the OpenAPI document against the app (in-process WSGI).

Schemathesis generates requests for every operation in /api/v1/openapi.json, valid ones
and deliberately invalid ones (negative mode), and sends them with a valid token; then it
generates requests against real records (the test world's children, instances and tasks)
so the success paths are exercised too. Every response must be no 5xx, have a documented
status and content type, and match its documented schema. The run is bounded (a fixed
number of examples per operation, derandomized so CI is repeatable) and has its own world
per database, so whatever the generated requests change (claims, drafts, children) touches
no other test.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import select

from engine.models import UserAccount, WorkItem
from tests.conftest import BACKENDS, make_database
from web.security import api_tokens as tokens

from .journeys import build_world, make_app

EXAMPLES = 6  # per operation and mode: about 300 requests per database, ~20 s
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_world(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"api-fuzz-{request.param}")
    database = make_database(request.param, folder, request)
    return build_world(database, make_app(database))


def _bearer(world, username: str) -> dict:
    """A fresh token per run: a generated DELETE /tokens/{id} may revoke the one in use."""
    with world.database.transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        return {"Authorization": f"Bearer {tokens.create(session, user, 'fuzz', 'test')[1]}"}


def _run(operation, mode: GenerationMode, headers: dict, examples: int = EXAMPLES,
         **fixed) -> list[str]:
    problems: list[str] = []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def check(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except AssertionError as exc:  # failed checks are raised as assertion errors
            problems.append(f"{operation.label} [{mode.value}] {fixed or ''}: {str(exc)[:1500]}")
            raise
    try:
        check()
    except AssertionError:
        if not problems:
            raise
    return problems


def _real_ids(world) -> dict[str, int]:
    with world.database.transaction() as session:
        item = session.get(WorkItem, world.tasks["north"])
        return {"item_id": item.id, "subject_id": item.subject_id,
                "instance_id": item.instance_id, "aim": 2}


def test_openapi_document_holds_under_generated_requests(fuzz_world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_world.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    problems = []
    for operation in operations:  # a service-wide manager, anything generated
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            problems += _run(operation, mode, _bearer(fuzz_world, "manager"))
    real = _real_ids(fuzz_world)
    for operation in operations:  # the north social worker, on real records
        names = {p.name for p in operation.path_parameters}
        if names and names <= set(real):
            problems += _run(operation, GenerationMode.POSITIVE, _bearer(fuzz_world, "sw.north"),
                             examples=4, path_parameters={n: real[n] for n in names})
    assert not problems, "\n\n".join(problems)
