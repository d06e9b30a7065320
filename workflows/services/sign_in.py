"""Signing a person in from the verified claims of the council's OpenID Connect provider.

One function, ``sign_in_from_claims``: the web layer (web/security/oidc.py) has checked the
ID token (signature against the provider's keys, issuer, audience, expiry, nonce) and hands
its claims here. The person is found by the stable claim the council chose (issuer and
subject, or e-mail address: ``OidcSettings.match_by``), added on their first sign-in where
the council allows it, and given the roles and team their groups map to (where the
council maps them). A deactivated person is refused; so is anyone the rules cannot place
(``workflows.sign_in_claims.Refusal``: the text is for the worker). Every change is an
audit event: the account added, the roles or team changed by groups, the sign-in itself,
and a refusal (``record_refusal``, as the refused sign-in's own transaction is rolled back).

Under ``match_by="sub"`` a person an administrator added (with the e-mail address the
provider confirms) is linked to their subject at their first sign-in through the provider
and found by it from then on, so changing their e-mail address at the provider later does
not make them someone else.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.models import Team, UserAccount

from .. import accounts, policy, sign_in_claims as rules
from ..sign_in_claims import ASK, Identity, Refusal
from ..sign_in_settings import OidcSettings
from . import handover

ADMIN = "admin"


def sign_in_from_claims(session: Session, settings: OidcSettings, claims,
                        address: str | None = None) -> UserAccount:
    """The active person the verified ``claims`` name, created or updated as the settings
    say; ``Refusal`` when they may not sign in (nothing is written then: the caller's
    transaction is rolled back). ``address``: the client's, for the audit event."""
    who = rules.identity(claims, settings.groups_claim)
    person = _find(session, settings, who)
    if person is None:
        person = _add(session, settings, who)
    else:
        if not person.active:
            raise Refusal("Your PACE Flow account is deactivated, so you cannot sign in. If "
                          f"you have come back to the service, {ASK[0].lower()}{ASK[1:]} "
                          "to reactivate it.")
        if settings.match_by == "sub" and person.oidc_subject is None:
            person.oidc_issuer, person.oidc_subject = who.issuer, who.subject  # linked once
        _follow_groups(session, settings, person, who)
    session.flush()
    audit.record(session, "signed_in", person.username,
                 data={"ip": address, "via": "oidc", "issuer": who.issuer})
    return person


def record_refusal(session: Session, settings: OidcSettings, claims, reason: str,
                   address: str | None = None) -> None:
    """A person the provider vouched for but PACE Flow refused (``sign_in_from_claims``
    raised ``Refusal``, and its transaction was rolled back): an audit event in a
    transaction of its own, so an administrator asked "why can't I sign in?" can see why."""
    try:
        who = rules.identity(claims, settings.groups_claim)
    except Refusal:
        who = None
    audit.record(session, "sign_in_refused", f"oidc:{settings.issuer}"[:80], data={
        "ip": address, "reason": reason, "subject": who.subject if who else None,
        "email": who.email if who else None, "groups": list(who.groups) if who else []})


def _find(session: Session, settings: OidcSettings, who: Identity) -> UserAccount | None:
    if settings.match_by == "email":
        return _by_email(session, _confirmed_email(who))
    found = session.scalar(select(UserAccount).where(UserAccount.oidc_issuer == who.issuer,
                                                     UserAccount.oidc_subject == who.subject))
    if found is not None or who.email is None or not who.email_verified:
        return found
    unlinked = _by_email(session, who.email)
    return unlinked if unlinked is not None and unlinked.oidc_subject is None else None


def _by_email(session: Session, email: str) -> UserAccount | None:
    return session.scalar(select(UserAccount).where(
        func.lower(UserAccount.email) == email.lower()).order_by(UserAccount.id).limit(1))


def _confirmed_email(who: Identity) -> str:
    if who.email is None or not who.email_verified:
        raise Refusal("The council's sign-in did not give a confirmed e-mail address, which "
                      f"PACE Flow uses to know who you are. {ASK}.")
    return who.email


def _add(session: Session, settings: OidcSettings, who: Identity) -> UserAccount:
    if not settings.create_people:
        raise Refusal("You do not have a PACE Flow account yet. "
                      f"{ASK} to add you; then sign in again.")
    roles, team = _placement(session, settings, who, current_roles=[])
    email = who.email if who.email and who.email_verified and not _email_taken(session, who.email) \
        else None
    taken = session.scalars(select(UserAccount.username)).all()
    person = accounts.create_user(session, rules.username_for(who, taken), who.display_name,
                                  None, roles, team, actor=f"oidc:{who.issuer}"[:80], email=email)
    person.oidc_issuer, person.oidc_subject = who.issuer, who.subject
    return person


def _email_taken(session: Session, email: str) -> bool:
    return _by_email(session, email) is not None


def _follow_groups(session: Session, settings: OidcSettings, person: UserAccount,
                   who: Identity) -> None:
    """Where the council maps groups, the person's roles and team follow them; tasks they
    hold but may no longer work go back to the team queue, as when an administrator
    changes them (workflows/services/people.py)."""
    if not settings.role_map and not settings.team_map:
        return
    roles, team = _placement(session, settings, who, current_roles=list(person.roles or []),
                             current_team=person.team)
    kept_admin = False
    if ADMIN in (person.roles or []) and ADMIN not in roles and _last_admin(session, person):
        roles, kept_admin = roles + [ADMIN], True  # the last administrator is never removed
    changes = {name: [old, new] for name, old, new in (
        ("roles", list(person.roles or []), roles), ("team", person.team, team)) if old != new}
    if not changes:
        return
    person.roles, person.team = roles, team
    session.flush()
    event = audit.record(session, "user_changed_from_groups", f"oidc:{who.issuer}"[:80], data={
        "username": person.username, "changes": changes, "groups": list(who.groups),
        **({"kept_admin": True} if kept_admin else {})})
    gone = [i for i in handover.held(session, person.id) if not policy.can_work(person, i)]
    returned = handover.release_all(session, gone, person,
                                    f"{person.username}: role or team changed by their groups")
    if returned:
        handover.tell_managers(session, event, person, "has a new role or team", returned,
                               own_team=False, actor_name="The council's sign-in")


def _placement(session: Session, settings: OidcSettings, who: Identity, current_roles: list[str],
               current_team: str | None = None) -> tuple[list[str], str | None]:
    """(roles, team) for the person: from their groups where the council maps them, else
    as they are."""
    roles = rules.roles_from_groups(who.groups, settings.role_map) if settings.role_map \
        else current_roles
    if settings.role_map and not roles:
        raise Refusal("Your groups at the council's sign-in give you no role in PACE Flow, so "
                      f"you cannot sign in. {ASK} or the council's identity team to add you "
                      "to the right group.")
    team = rules.team_from_groups(who.groups, settings.team_map) if settings.team_map \
        else current_team
    if team is not None and team != current_team:
        found = session.get(Team, team)
        if found is None or found.closed_at is not None:
            raise Refusal(f"Your group at the council's sign-in puts you in team {team}, which "
                          f"PACE Flow {'does not have' if found is None else 'has closed'}. "
                          f"{ASK}.")
    if team is None and (bound := [r for r in roles if r in policy.TEAM_ROLES]):
        raise Refusal(f"Your role ({', '.join(b.replace('_', ' ') for b in bound)}) works "
                      "within one team, but your groups at the council's sign-in give you no "
                      f"team. {ASK} or the council's identity team.")
    return roles, team


def _last_admin(session: Session, person: UserAccount) -> bool:
    return not any(u.id != person.id and ADMIN in (u.roles or []) for u in session.scalars(
        select(UserAccount).where(UserAccount.active.is_(True))))
