"""/api/v1/settings (issue 25): every setting and where it came from, for administrators and
process owners, secrets hidden; the aims' settings changed by name through the service of
``pace settings set``, audited, all or nothing, with each refused key named."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent
from workflows.measures import aim_store

from .api_client import api, assert_error

SETTINGS = "/api/v1/settings"


def _by_key(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["key"]: row for row in response.get_json()["settings"]}


def test_the_settings_and_their_sources(world, monkeypatch):
    monkeypatch.setenv("PACE_SMTP_PASSWORD", "a-mail-password")
    monkeypatch.setenv("PACE_SMTP_PORT", "2525")
    monkeypatch.delenv("PACE_SMTP_USER", raising=False)
    rows = _by_key(api(world, "admin").get(SETTINGS))
    assert rows["smtp.port"] == {"key": "smtp.port", "variable": "PACE_SMTP_PORT",
                                 "value": "2525", "source": "environment",
                                 "meaning": "the mail server's port"}
    assert rows["smtp.password"]["value"] == "********"
    assert (rows["smtp.user"]["value"], rows["smtp.user"]["source"]) == ("", "default")
    assert rows["aims.2.threshold"] == {"key": "aims.2.threshold", "variable": None,
                                        "value": "30w", "source": "database",
                                        "meaning": "how soon the aim's step must happen"}
    assert "a-mail-password" not in api(world, "owner").get(SETTINGS).get_data(as_text=True)


def test_the_aims_settings_are_changed_by_name_and_audited(world):
    changed = _by_key(api(world, "owner").open("PATCH", SETTINGS, json={
        "aims.2.target_pct": 80, "aims.2.teams": ["north"], "aims.3.max_age": None}))
    assert set(changed) == {f"aims.{aim}.{key}" for aim in (2, 3) for key in (
        "wording", "target_pct", "threshold", "max_age", "min_age", "teams", "placement",
        "start_date", "end_date")}
    assert changed["aims.2.target_pct"]["value"] == "80"
    assert changed["aims.2.teams"]["value"] == "north"
    with world.database.transaction() as session:
        stored = aim_store.load(session, world.database.settings.council)
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "aim_settings_changed").order_by(AuditEvent.id)).all()
    assert stored[2].target_pct == 80 and stored[2].population.teams == ("north",)
    assert [(e.actor, e.data["aim"]) for e in events] == [("owner", 2), ("owner", 3)]


def test_a_refused_key_is_named_and_nothing_is_saved(world):
    refused = api(world, "admin").open("PATCH", SETTINGS, json={
        "aims.1.target_pct": 70, "aims.2.target_pct": 250, "council": "fife",
        "aims.9.wording": "x"})
    body = assert_error(refused, 422, "aims.2.target_pct", "council", "aims.9.wording")
    assert "part of the configuration" in body["errors"]["council"][0]
    assert "There is no Aim 9" in body["errors"]["aims.9.wording"][0]
    with world.database.transaction() as session:
        assert aim_store.load(session, world.database.settings.council)[1].target_pct != 70
        assert session.scalar(select(AuditEvent.id).where(
            AuditEvent.event_type == "aim_settings_changed")) is None


def test_only_administrators_and_process_owners(world):
    assert_error(api(world, "manager").get(SETTINGS), 403)
    assert_error(api(world, "sw.north").open("PATCH", SETTINGS, json={"aims.2.target_pct": 80}),
                 403)
    assert_error(api(world, "admin").open("PATCH", SETTINGS, json=[1, 2]), 422)


def test_values_of_any_json_type_are_refused_not_crashed_on(world):
    odd = {"aims.2.target_pct": {"a": 1}, "aims.2.wording": [1], "aims.2.threshold": 5,
           "aims.2.max_age": "x", "aims.2.teams": 7, "aims.2.start_date": {},
           "aims.3.min_age": 1.5, "aims.3.end_date": True, "aims.3.wording": "\u0000"}
    body = assert_error(api(world, "admin").open("PATCH", SETTINGS, json=odd), 422)
    assert set(body["errors"]) == set(odd)
