"""How a date rule's message names a milestone's date, in each profile's words.

A form's date rule (engine/date_rules.py) refuses e.g. an application lodged before the
permanence recommendation; the message names the date it conflicts with: "Date application
lodged must be on or after 28 October 2026, the date of the permanence recommendation". The
phrases below read after the date; a milestone without one is named by its label.
"""
from __future__ import annotations

from collections.abc import Iterable

from engine.date_rules import Policy

SCOTLAND_PHRASES = {
    "LA_START": "the date the child was accommodated",
    "PLANNING_MTG": "the date of the planning meeting",
    "INITIAL_LAR": "the date of the initial looked-after review",
    "INTERIM_LAR": "the date of the interim review",
    "LEGAL_REFERRAL": "the date the referral for legal advice was sent",
    "LEGAL_OPINION": "the date legal advice was given",
    "PERM_RECOMMENDATION": "the date of the permanence recommendation",
    "RETURN_HOME": "the date the child returned home",
    "CAPR": "the date the Child's Adoption and Permanence Report was submitted",
    "PANEL": "the date of the permanence panel",
    "ADM": "the date of the agency decision",
    "APPLICATION_LODGED": "the date the application was lodged",
    "ORDER_GRANTED": "the date the order was granted",
    "LAC_REVIEW": "the date of the last six-monthly looked-after review",
    "KINSHIP_ASSESSMENT": "the date the kinship carer assessment was completed",
    "PERM_REPORTER_NOTIFIED": "the date the Children's Reporter was notified of the application",
    "HEARING_ADVICE": "the date of the Hearing that gave its advice",
    "FAMILY_FOUND": "the date the prospective adopters were identified",
    "MATCH_PANEL": "the date of the matching panel",
    "MATCH_ADM": "the date of the agency decision on the match",
    "ADOPTIVE_PLACEMENT": "the date the child was placed with the prospective adopters",
    "ADOPTION_PETITION": "the date the adopters lodged their petition",
    "CSO_START": "the date the Compulsory Supervision Order started",
    "AIM1_REVIEW": "the date of the last Aim 1 review",
    "CSO_HEARING": "the date of the Children's Hearing decision",
}
ENGLAND_PHRASES = {
    "LA_START": "the date the child started to be looked after",
    "PROCEEDINGS_ISSUED": "the date care proceedings were issued",
    "CMH": "the date of the case management hearing",
    "IRH": "the date of the issues resolution hearing",
    "LEGAL_PLANNING": "the date of the legal planning meeting",
    "PRE_PROCEEDINGS": "the date pre-proceedings concluded",
    "DISPUTE_RAISED": "the date the IRO raised the dispute",
    "REVIEW_FIRST": "the date of the first looked-after review",
    "REVIEW": "the date of the last looked-after review",
}
PHRASES = {"scotland": SCOTLAND_PHRASES, "england": ENGLAND_PHRASES}


def phrase(profile, code: str) -> str:
    """The milestone's date in ``profile``'s words (a Profile, or None when unknown)."""
    if profile is not None:
        words = PHRASES.get(profile.name, {}).get(code)
        if words:
            return words
        label = profile.milestones.get(code)
        if label:
            return f"the date recorded for \u201c{label}\u201d"
    return f"the date recorded for \u201c{code.replace('_', ' ').capitalize()}\u201d"


def policy(profiles: Iterable) -> Policy:
    """The engine's date-rule policy for the given profiles: each process's milestones named
    in its own profile's words; rules may name any milestone of these profiles."""
    profiles = tuple(profiles)
    by_process = {pid: p for p in profiles for pid in p.processes}

    def milestone_date(process_id: str, code: str) -> str:
        return phrase(by_process.get(process_id), code)

    return Policy(milestone_date, frozenset(code for p in profiles for code in p.milestones))
