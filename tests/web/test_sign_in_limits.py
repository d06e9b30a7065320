"""Sign-in that resists abuse (issue 30): limits per client address, weighed per account,
refusals without hashing, and bounded audit events for floods of unknown names (both
databases, the real app)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import werkzeug.security
from sqlalchemy import select

from engine.models import AuditEvent, SignInLimit, UserAccount
from web.security import sign_in_limits
from workflows.demo import scotland as demo

from .conftest import post

RIGHT = demo.DEMO_PASSWORD
SIGN_IN_EVENTS = ("signed_in", "sign_in_failed", "sign_in_blocked", "sign_in_summary")


def attempt(client, address: str, username: str, password: str):
    return post(client, "/sign-in", {"username": username, "password": password},
                environ_base={"REMOTE_ADDR": address})


def events(world, address: str | None = None) -> list[AuditEvent]:
    with world.database.transaction() as session:
        found = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type.in_(SIGN_IN_EVENTS)).order_by(AuditEvent.id)).all()
    return [e for e in found if address is None or (e.data or {}).get("ip") == address]


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password hashes computed (every check of a password computes one)."""
    from web.security import sign_in as auth
    auth._dummy_hash()  # made once per process, before counting
    calls = []
    real = werkzeug.security._hash_internal

    def counted(*args):
        calls.append(args[0])
        return real(*args)
    monkeypatch.setattr(werkzeug.security, "_hash_internal", counted)
    return calls


def test_an_address_over_its_limit_is_refused_without_hashing_then_others_are_not(
        shared_world, hashes):
    client = shared_world.app.test_client()
    limit = sign_in_limits.Limits().address_failures
    for n in range(limit - 1):
        assert attempt(client, "198.51.100.7", f"nobody{n}", "wrong-password").status_code == 401
    last = attempt(client, "198.51.100.7", "nobody-last", "wrong-password")
    assert last.status_code == 429  # this failure reached the limit
    assert len(hashes) == limit
    hashes.clear()
    refused = attempt(client, "198.51.100.7", "tl.south", RIGHT)  # even the right password
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "too many failed attempts to sign in from your network" in text
    assert "Try again after" in text and "(in 15 minutes)" in text
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    for n in range(20):
        assert attempt(client, "198.51.100.7", f"more{n}", "wrong").status_code == 429
    assert hashes == []  # nothing hashed beyond the limit
    # another address is not affected, nor is the account named from the blocked one
    assert attempt(shared_world.app.test_client(), "198.51.100.8", "tl.south",
                   RIGHT).status_code == 302
    assert len(hashes) == 1
    blocked = [e for e in events(shared_world, "198.51.100.7") if e.event_type == "sign_in_blocked"]
    assert len(blocked) == 1 and blocked[0].actor == "anonymous"


def test_the_right_password_works_from_elsewhere_under_a_stream_of_wrong_ones(shared_world):
    """The acceptance test: "adm" is attacked from one address, then from many; the real
    user signs in from the office every time, and each attacking address is cut off sooner
    the more the account has been attacked."""
    attacker = shared_world.app.test_client()
    office = "192.0.2.10"
    tries_before_block = []
    for source in ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]:
        tries = 0
        while True:
            tries += 1
            answer = attempt(attacker, source, "adm", f"guess-{source}-{tries}")
            assert answer.status_code in (401, 429)
            user = shared_world.app.test_client()
            assert attempt(user, office, "adm", RIGHT).status_code == 302, (source, tries)
            if answer.status_code == 429:
                break
        assert attempt(attacker, source, "adm", RIGHT).status_code == 429  # blocked source
        tries_before_block.append(tries)
    assert tries_before_block[0] < sign_in_limits.Limits().address_failures  # weighed
    assert tries_before_block == sorted(tries_before_block, reverse=True)
    assert tries_before_block[-1] <= 2
    with shared_world.database.transaction() as session:
        adm = session.scalar(select(UserAccount.id).where(UserAccount.username == "adm"))
        office_row = session.scalar(select(SignInLimit).where(SignInLimit.key == office))
    assert office_row is None  # the office never failed
    failed = [e for e in events(shared_world) if e.event_type == "sign_in_failed"
              and e.actor == "adm"]
    assert len(failed) == sum(tries_before_block) and adm


def test_a_flood_of_unknown_names_writes_a_bounded_number_of_events(shared_world, hashes):
    client = shared_world.app.test_client()
    address = "198.51.100.99"
    names = [f"=cmd|' /C calc'!A{n}\r\nBcc: x" if n % 2 else f"intruder{n}" for n in range(60)]
    answers = [attempt(client, address, name, "guess").status_code for name in names]
    limit = sign_in_limits.Limits().address_failures
    assert answers[:limit - 1] == [401] * (limit - 1) and set(answers[limit - 1:]) == {429}
    assert len(hashes) == limit
    during = events(shared_world, address)
    assert [e.event_type for e in during] == ["sign_in_blocked"]
    typed = set(names)
    assert not any(e.actor in typed for e in events(shared_world))
    # the window closes: the worker writes one summary with the counts, names nowhere
    later = sign_in_limits.now() + timedelta(hours=1)
    with shared_world.database.transaction() as session:
        assert sign_in_limits.close_windows(session, later) >= 1
    with shared_world.database.transaction() as session:
        assert sign_in_limits.close_windows(session, later) == 0  # once only
    summary = [e for e in events(shared_world, address) if e.event_type == "sign_in_summary"]
    assert len(summary) == 1
    assert summary[0].data["unknown_names"] == limit
    assert summary[0].data["refused"] == len(names) - limit
    assert summary[0].actor == "anonymous"
    assert not any(n in str(e.data) for e in events(shared_world, address) for n in names)


def test_a_refused_attempt_costs_a_fraction_of_a_hashed_one(shared_world):
    client = shared_world.app.test_client()
    address = "198.51.100.150"

    def cpu(name):
        started = time.process_time()
        status = attempt(client, address, name, "guess").status_code
        return time.process_time() - started, status

    hashed = [cpu(f"cost{n}") for n in range(sign_in_limits.Limits().address_failures)]
    refused = [cpu(f"cost-refused{n}") for n in range(10)]
    assert {s for _, s in refused} == {429}
    per_hashed = sorted(t for t, _ in hashed)[len(hashed) // 2]
    per_refused = sorted(t for t, _ in refused)[len(refused) // 2]
    assert per_refused < per_hashed / 3, (per_refused, per_hashed)


def test_blocks_grow_and_ipv6_is_counted_by_its_slash_64(empty_database):
    database = empty_database
    limits = sign_in_limits.Limits()
    start = sign_in_limits.now()
    assert sign_in_limits.address_key("2001:db8:1:2:aaaa::1") == \
        sign_in_limits.address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert sign_in_limits.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert sign_in_limits.address_key("not an address\r\n" * 10)[:14] == "not an address"
    blocks = []
    at = start
    for _ in range(3):
        until = None
        while until is None:
            with database.transaction() as session:
                assert sign_in_limits.refused_until(session, "2001:db8:1:2::/64", at) is None
                until = sign_in_limits.record_failure(session, limits, "2001:db8:1:2::/64",
                                                      None, at)
        blocks.append(until - at)
        with database.transaction() as session:
            assert sign_in_limits.refused_until(session, "2001:db8:1:2::/64", at) == until
        at = until + timedelta(seconds=1)
    assert blocks == [timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60)]
    # a day later without a block, the address starts afresh
    at += limits.memory + timedelta(minutes=1)
    with database.transaction() as session:
        sign_in_limits.record_failure(session, limits, "2001:db8:1:2::/64", None, at)
        row = session.scalar(select(SignInLimit).where(SignInLimit.kind == "address"))
        assert row.strikes == 0 and row.failures == 1
    # and quiet rows are forgotten by the worker
    with database.transaction() as session:
        sign_in_limits.close_windows(session, at + limits.memory + timedelta(hours=1))
    with database.transaction() as session:
        assert session.scalar(select(SignInLimit)) is None


def test_an_account_weighs_more_the_more_it_fails():
    limits = sign_in_limits.Limits()
    assert [limits.weight(n) for n in (1, 4, 5, 9, 10, 15, 20, 100)] == \
        [1, 1, 2, 2, 4, 8, 10, 10]
    assert sign_in_limits.Limits.from_config({}, {"PACE_SIGN_IN_ADDRESS_LIMIT": "50"}) \
        .address_failures == 50
    assert sign_in_limits.Limits.from_config({"SIGN_IN_ADDRESS_LIMIT": 3}, {}) \
        .address_failures == 3
    with pytest.raises(ValueError, match="PACE_SIGN_IN_WINDOW_MINUTES"):
        sign_in_limits.Limits.from_config({}, {"PACE_SIGN_IN_WINDOW_MINUTES": "soon"})
