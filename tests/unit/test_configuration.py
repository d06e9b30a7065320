"""Settings from a TOML file named by PACE_CONFIG or from the environment
(workflows/configuration.py): the environment wins over the file, the file over the
defaults; an unknown key or a value of the wrong type is refused naming the file and key."""
from __future__ import annotations

import json

import pytest

from workflows import configuration
from workflows.configuration import ConfigurationError, apply, report, values

GOOD = """\
council = "midlothian"
profiles = ["scotland"]
time_zone = "Europe/London"
database_url = "postgresql+psycopg://pace:s3cret@db.council.gov.uk/pace"
secret_key = "0123456789abcdef0123456789abcdef"
https = true
trusted_proxies = 1

[smtp]
host = "smtp.council.gov.uk"
port = 587
password = "mail-password"

[session]
timeout_minutes = 20

[oidc.role_map]
"pace-social-workers" = "social_worker"
"pace-leads" = ["team_leader", "social_worker"]
"""


def _file(tmp_path, text: str):
    path = tmp_path / "pace.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_fills_what_the_environment_leaves_unset(tmp_path):
    path = _file(tmp_path, GOOD)
    environ = {"PACE_CONFIG": str(path), "PACE_COUNCIL": "fife", "PACE_SMTP_PORT": "2525"}
    loaded = apply(environ)
    assert environ["PACE_COUNCIL"] == "fife"          # the environment wins
    assert environ["PACE_SMTP_PORT"] == "2525"
    assert environ["PACE_PROFILES"] == "scotland"     # the file fills the rest
    assert environ["PACE_HTTPS"] == "1" and environ["PACE_TRUSTED_PROXIES"] == "1"
    assert environ["PACE_SESSION_TIMEOUT_MINUTES"] == "20"
    assert json.loads(environ["PACE_OIDC_ROLE_MAP"]) == {
        "pace-social-workers": "social_worker", "pace-leads": ["team_leader", "social_worker"]}
    assert "PACE_COUNCIL" not in loaded.applied and "PACE_PROFILES" in loaded.applied

    shown = {row.key: row for row in report(environ, loaded)}
    assert (shown["council"].value, shown["council"].source) == ("fife", "environment")
    assert (shown["profiles"].value, shown["profiles"].source) == ("scotland", "file")
    assert (shown["https"].value, shown["https"].source) == ("true", "file")
    assert (shown["smtp.user"].value, shown["smtp.user"].source) == ("", "default")
    assert (shown["demo"].value, shown["demo"].source) == ("false", "default")
    # secrets are never shown; the database URL keeps its host but not its password
    assert shown["secret_key"].value == shown["smtp.password"].value == "********"
    assert shown["database_url"].value == \
        "postgresql+psycopg://pace:********@db.council.gov.uk/pace"
    assert "s3cret" not in repr(report(environ, loaded))


def test_a_second_app_in_the_same_process_still_knows_the_files_values(tmp_path):
    path = _file(tmp_path, 'council = "angus"\n')
    environ = {"PACE_CONFIG": str(path)}
    apply(environ)
    again = apply(environ)
    assert "PACE_COUNCIL" in again.applied


def test_without_pace_config_nothing_is_read():
    environ = {"PACE_COUNCIL": "fife"}
    loaded = apply(environ)
    assert loaded.path is None and environ == {"PACE_COUNCIL": "fife"}
    shown = {row.key: row.source for row in report(environ, loaded)}
    assert shown["council"] == "environment" and shown["profiles"] == "default"


@pytest.mark.parametrize("text,expected", [
    ('councill = "fife"\n', "x.toml: councill: not a setting; did you mean council?"),
    ('[smtp]\nhots = "mail"\n', "x.toml: smtp.hots: not a setting; did you mean smtp.host?"),
    ('[mail]\nhost = "mail"\n', "x.toml: [mail]: not a table of settings"),
    ('[smtp]\nport = "587"\n', 'x.toml: smtp.port: expected a whole number from 1 to 65535, '
                               'without quotes (e.g. 587), not "587"'),
    ('[smtp]\nport = 70000\n', "smtp.port: expected a whole number from 1 to 65535"),
    ('https = "yes"\n', 'x.toml: https: expected true or false, without quotes, not "yes"'),
    ('trusted_proxies = true\n', "trusted_proxies: expected a whole number from 0 to 5"),
    ('profiles = ["scotland", "wales"]\n', "profiles: expected a list of one or more of "
                                          "'scotland', 'england'"),
    ('council = "Fife Council"\n', "council: expected a council code"),
    ('time_zone = "Europe/Londn"\n', "time_zone: expected a time zone of the IANA database"),
    ('[smtp]\ntls = "yes"\n', "smtp.tls: expected one of 'starttls', 'ssl', 'none'"),
    ('database_url = "postgresql+psycopg://pace:pw@db:54x2/pace"\n',
     'database_url: expected an SQLAlchemy database URL (e.g. "postgresql+psycopg://pace@db.'
     'council.gov.uk/pace") with a port that is a number, if any, not "postgresql+psycopg://'
     'pace:********@db:54x2/pace"'),
    ('[session.extra]\nx = 1\n', "session.extra: not a setting (tables do not nest)"),
    ('[oidc.role_map]\ngroup = 3\n', "oidc.role_map: expected a table of"),
])
def test_a_wrong_key_or_type_is_named_with_what_is_expected(text, expected):
    import tomllib
    with pytest.raises(ConfigurationError) as refused:
        values(tomllib.loads(text), "x.toml")
    assert expected in str(refused.value)


def test_every_problem_of_a_file_is_listed_at_once(tmp_path):
    path = _file(tmp_path, 'councill = "fife"\nhttps = 1\n[smtp]\nport = "x"\n')
    with pytest.raises(ConfigurationError) as refused:
        apply({"PACE_CONFIG": str(path)})
    assert len(refused.value.problems) == 3
    assert all(p.startswith(f"{path}: ") for p in refused.value.problems)


@pytest.mark.parametrize("text,expected", [
    (None, "there is no such file; create it or unset the variable"),
    ("council = \n", "not valid TOML: Invalid value (at line 1, column 11)"),
    (b"council = \"caf\xe9\"\n", "not UTF-8 text"),
])
def test_a_file_that_cannot_be_read_is_named(tmp_path, text, expected):
    path = tmp_path / "pace.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(ConfigurationError) as refused:
        apply({"PACE_CONFIG": str(path)})
    assert expected in str(refused.value) and str(path) in str(refused.value)


def test_strict_variables_are_checked_in_the_environment_too():
    with pytest.raises(ConfigurationError) as refused:
        apply({"PACE_TIME_ZONE": "Mars/Olympus", "PACE_SESSION_TIMEOUT_MINUTES": "0",
               "PACE_DATABASE_URL": "pace:secret@db"})
    problems = refused.value.problems
    assert any(p.startswith("PACE_TIME_ZONE='Mars/Olympus': expected a time zone") for p in problems)
    assert any(p.startswith("PACE_SESSION_TIMEOUT_MINUTES='0': expected a whole number from 5 "
                            "to 480") for p in problems)
    assert any(p.startswith("PACE_DATABASE_URL='pace:********@db'") for p in problems)
    assert "secret" not in str(refused.value)


def test_every_variable_is_declared_once():
    variables = [o.variable for o in configuration.OPTIONS]
    keys = [o.key for o in configuration.OPTIONS]
    assert len(set(variables)) == len(variables) and len(set(keys)) == len(keys)


def test_the_sign_in_documents_example_file_reads_into_the_sign_in_settings():
    """docs/sign-in.md's TOML block, through the file's types into the variables the sign-in
    settings read (workflows/sign_in_settings.py)."""
    import re
    import tomllib
    from pathlib import Path

    from workflows.sign_in_settings import SignInSettings
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sign-in.md").read_text()
    example = re.search(r"```toml\n(.*?)```", doc, re.S)[1].replace("<tenant id>", "t-1")
    environ = values(tomllib.loads(example), "sign-in.md")
    found = SignInSettings.from_environ(environ)
    assert found.local_passwords is False and found.oidc.create_people is True
    assert found.oidc.role_map == {"pace-social-workers": ("social_worker",),
                                   "pace-team-leaders": ("team_leader", "social_worker")}
    assert found.oidc.team_map == {"cf-north": ("north",)}


def test_reading_the_file_again_follows_its_changes(tmp_path):
    """gunicorn reads its configuration again on HUP (systemctl reload pace-web)."""
    path = _file(tmp_path, 'council = "angus"\n[smtp]\nhost = "mail.angus"\n')
    environ = {"PACE_CONFIG": str(path), "PACE_SMTP_PORT": "2525"}
    apply(environ)
    path.write_text('council = "fife"\n[smtp]\nport = 25\n')
    again = apply(environ)
    assert environ["PACE_COUNCIL"] == "fife" and "PACE_SMTP_HOST" not in environ
    assert environ["PACE_SMTP_PORT"] == "2525"  # the environment's, still winning
    assert again.applied == {"PACE_COUNCIL"}


def test_a_refused_secret_is_not_repeated():
    import tomllib
    with pytest.raises(ConfigurationError) as refused:
        values(tomllib.loads('secret_key = 918273645\ndatabase_url = "pace:s3cret@db"\n'
                            '[smtp]\npassword = ["p4ss"]\n'), "x.toml")
    text = str(refused.value)
    assert "x.toml: secret_key: expected text in quotes, not ********" in text
    assert "x.toml: smtp.password: expected text in quotes, not ********" in text
    assert 'x.toml: database_url: expected an SQLAlchemy database URL' in text
    assert "918273645" not in text and "s3cret" not in text and "p4ss" not in text
