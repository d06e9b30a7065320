"""The rules of signing in through the council's provider (workflows/sign_in_claims.py) and
its settings (workflows/sign_in_settings.py): pure functions, no database."""
from __future__ import annotations

import pytest

from workflows.app import Settings, SettingsError
from workflows.sign_in_claims import (Refusal, groups_of, identity, roles_from_groups,
                                      team_from_groups, username_for)
from workflows.sign_in_settings import (SignInSettings, SignInSettingsError,
                                        parse_group_map)

BASE = {"PACE_OIDC_ISSUER": "https://login.council.gov.uk/realms/staff",
        "PACE_OIDC_CLIENT_ID": "pace-flow", "PACE_OIDC_CLIENT_SECRET": "secret"}


# -- group maps ----------------------------------------------------------------------------
def test_a_group_map_in_the_short_form():
    assert parse_group_map(" pace-sw=social_worker , pace-tl=team_leader,pace-tl=social_worker ",
                           "X") == {"pace-sw": ("social_worker",),
                                    "pace-tl": ("team_leader", "social_worker")}


def test_a_group_map_in_json_takes_any_group_name():
    text = '{"CN=PACE SW,OU=Groups,DC=council": "social_worker", "g2": ["auditor", "admin"]}'
    assert parse_group_map(text, "X") == {"CN=PACE SW,OU=Groups,DC=council": ("social_worker",),
                                          "g2": ("auditor", "admin")}


@pytest.mark.parametrize("text, words", [
    ("pace-sw", "'pace-sw' is not group=value"),
    ("a=b,=c", "'=c' is not group=value"),
    ('{"a": ', "is not valid JSON"),
    ('{"a": 3}', "must be a text or a list of texts"),
])
def test_a_group_map_that_cannot_be_read_names_the_variable(text, words):
    with pytest.raises(SignInSettingsError) as refused:
        parse_group_map(text, "PACE_OIDC_ROLE_MAP")
    assert "PACE_OIDC_ROLE_MAP" in str(refused.value) and words in str(refused.value)


def test_blank_is_no_map():
    assert parse_group_map("  ", "X") == {}


# -- settings --------------------------------------------------------------------------------
def test_no_issuer_no_provider_and_passwords_on():
    settings = SignInSettings.from_environ({})
    assert settings.oidc is None and settings.local_passwords


def test_settings_from_the_environment():
    oidc = SignInSettings.from_environ({
        **BASE, "PACE_OIDC_PROVIDER_NAME": "Microsoft", "PACE_OIDC_MATCH": "EMAIL",
        "PACE_OIDC_CREATE_PEOPLE": "1", "PACE_OIDC_ROLE_MAP": "sw=social_worker",
        "PACE_OIDC_TEAM_MAP": "north-staff=north", "PACE_OIDC_SCOPES": "openid email groups",
        "PACE_OIDC_GROUPS_CLAIM": "roles"}).oidc
    assert (oidc.provider_name, oidc.match_by, oidc.create_people, oidc.groups_claim) == (
        "Microsoft", "email", True, "roles")
    assert oidc.scopes == ("openid", "email", "groups")
    assert oidc.discovery_url == \
        "https://login.council.gov.uk/realms/staff/.well-known/openid-configuration"


@pytest.mark.parametrize("changes, words", [
    ({"PACE_OIDC_ISSUER": "http://login.council.gov.uk"}, "must be the provider's https://"),
    ({"PACE_OIDC_CLIENT_ID": ""}, "PACE_OIDC_CLIENT_ID is missing"),
    ({"PACE_OIDC_CLIENT_SECRET": " "}, "PACE_OIDC_CLIENT_SECRET is missing"),
    ({"PACE_OIDC_SCOPES": "email"}, "PACE_OIDC_SCOPES must include openid"),
    ({"PACE_OIDC_MATCH": "name"}, "PACE_OIDC_MATCH='name': write sub or email"),
    ({"PACE_OIDC_ROLE_MAP": "g=wizard"}, "group 'g' gives unknown role wizard"),
    ({"PACE_OIDC_TEAM_MAP": "g=North Team"}, "'North Team' is not a team code"),
    ({"PACE_OIDC_TEAM_MAP": "g=north,g=south"}, "gives more than one team"),
    ({"PACE_OIDC_CREATE_PEOPLE": "1"}, "needs PACE_OIDC_ROLE_MAP"),
    ({"PACE_OIDC_CREATE_PEOPLE": "maybe"}, "PACE_OIDC_CREATE_PEOPLE='maybe': write 1"),
    ({"PACE_LOCAL_PASSWORDS": "0", "PACE_OIDC_ISSUER": ""}, "nobody could sign in"),
])
def test_a_setting_that_cannot_work_stops_start_up_with_what_to_write(changes, words):
    with pytest.raises(SettingsError) as refused:
        Settings.from_environ({**BASE, **changes})
    assert words in str(refused.value)


def test_loopback_http_is_allowed_for_a_provider_on_the_same_machine():
    assert Settings.from_environ({**BASE, "PACE_OIDC_ISSUER": "http://127.0.0.1:8080"}
                                 ).sign_in.oidc.issuer == "http://127.0.0.1:8080"


# -- claims -----------------------------------------------------------------------------------
def test_identity_from_claims():
    who = identity({"iss": "https://idp", "sub": "abc", "email": " jo@council.gov.uk ",
                    "preferred_username": "jo.b", "given_name": "Jo", "family_name": "Bloggs",
                    "groups": ["a", "b", 3]})
    assert (who.issuer, who.subject, who.email, who.email_verified, who.username_hint,
            who.display_name, who.groups) == (
        "https://idp", "abc", "jo@council.gov.uk", True, "jo.b", "Jo Bloggs", ("a", "b"))


def test_an_unconfirmed_email_is_marked():
    assert not identity({"iss": "i", "sub": "s", "email": "a@b.c",
                         "email_verified": False}).email_verified


def test_claims_without_a_subject_are_refused():
    with pytest.raises(Refusal, match="did not say who you are"):
        identity({"iss": "https://idp", "email": "a@b.c"})


def test_groups_in_another_claim_or_as_text():
    assert groups_of({"roles": "a b"}, "roles") == ("a", "b")
    assert groups_of({}, "groups") == ()


def test_roles_and_team_from_groups():
    role_map = {"sw": ("social_worker",), "tl": ("team_leader", "social_worker")}
    assert roles_from_groups(["tl", "sw", "other"], role_map) == ["social_worker", "team_leader"]
    assert roles_from_groups(["other"], role_map) == []
    team_map = {"north-staff": ("north",), "south-staff": ("south",), "all": ("north",)}
    assert team_from_groups(["north-staff", "all"], team_map) == "north"
    assert team_from_groups(["x"], team_map) is None
    with pytest.raises(Refusal, match=r"more than one team \(north, south\)"):
        team_from_groups(["north-staff", "south-staff"], team_map)


def test_a_username_fits_the_rules_and_is_never_reused():
    who = identity({"iss": "i", "sub": "s", "preferred_username": "Jo Bloggs/Team#1"})
    assert username_for(who, []) == "JoBloggsTeam1"
    assert username_for(who, ["jobloggsteam1", "JoBloggsTeam1-2"]) == "JoBloggsTeam1-3"
    assert username_for(identity({"iss": "i", "sub": "--"}), []) == "user"
