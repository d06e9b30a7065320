"""Property-based run of the OpenAPI document against the app (in-process WSGI).

Schemathesis generates requests for every operation from /api/v1/openapi.json: valid
ones and deliberately invalid ones (negative mode), sent with a valid token. Every
response must be no 5xx, have a documented status and content type, and match its
documented schema. The run is bounded (a fixed number of examples per operation and
mode, derandomized so CI is repeatable) and gets its own world on each database, so the
changes generated requests make (claims, drafts, children) touch nothing else.
"""
from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from sqlalchemy import select

from engine.models import UserAccount
from tests.conftest import BACKENDS, make_database
from web.api import tokens

from .journeys import build_world, make_app

EXAMPLES = 12  # per operation and mode: 21 operations x 2 modes, well under a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
USERS = ("manager", "sw.north")
import collections
STATS = collections.Counter()  # a service-wide manager, and a team's social worker


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_world(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"api-fuzz-{request.param}")
    database = make_database(request.param, folder, request)
    return build_world(database, make_app(database))


def _new_token(world, username: str) -> str:
    with world.database.transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        return tokens.create(session, user, "fuzz", "test")[1]


def _run(schema, operation, mode: GenerationMode, headers: dict) -> list[str]:
    problems: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        try:
            t0 = time.monotonic()
            response = case.call(headers=headers)
            t1 = time.monotonic()
            case.validate_response(response, checks=CHECKS, headers=headers)
            STATS[("call",)] += t1 - t0
            STATS[("validate",)] += time.monotonic() - t1
            STATS[(operation.label, mode.value, response.status_code)] += 1
        except AssertionError as exc:  # schemathesis reports failed checks this way
            problems.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
            raise
    try:
        check()
    except Exception:  # noqa: BLE001 - collected above, reported together below
        if not problems:
            raise
    return problems


@pytest.mark.parametrize("user", USERS)
def test_openapi_document_holds_under_generated_requests(fuzz_world, user):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_world.app)
    started = time.monotonic()
    problems, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # A fresh token each run: a generated DELETE /tokens/{id} may revoke it.
            headers = {"Authorization": f"Bearer {_new_token(fuzz_world, user)}"}
            t0 = time.monotonic()
            problems += _run(schema, operation, mode, headers)
            STATS[("mode", mode.value)] += time.monotonic() - t0
            STATS[("op", operation.label)] += time.monotonic() - t0
    for k, v in sorted(STATS.items()): print(k, v)
    print("elapsed", time.monotonic() - started)
    assert operations >= 20
    assert not problems, "\n\n".join(problems)
    assert time.monotonic() - started < 60
