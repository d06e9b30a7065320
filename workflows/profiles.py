"""Profiles: which council's statutory processes a deployment runs, as diagrams plus settings.

A profile is plain data: its processes (folders of diagrams and forms), the roles its lanes
use and what they are called, its milestone labels, the bank-holiday region its working
days skip, and the wording the web layer shows. The engine knows none of it.

``PACE_PROFILES`` chooses the profiles: ``scotland`` (the default), ``england`` or
``scotland,england``. Each child is on one profile, kept in ``Subject.attributes["profile"]``
when a process is first started for them (children without it are Scottish, as every child
was before profiles existed).

When several profiles are enabled the runtime still has one due-rule policy; it takes the
calendar of the process being worked on (each process belongs to exactly one profile), so a
Scottish child's working days skip Scottish bank holidays and an English child's skip
England and Wales ones.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

from engine.errors import Conflict
from engine.models import ProcessInstance, Subject
from engine.runtime import EngineConfig, Runtime

from . import ending_reasons, milestone_dates, vocabulary
from .ending_reasons import TURNED_18, EarlyEnding  # noqa: F401 - the services read them here
from .due_rules import ENGLAND, SCOTLAND, DueRules, apply_offset, parse_offsets, resolve

ENV = "PACE_PROFILES"
DEFAULT = "scotland"
BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

# Roles that hold no queue, shared by every profile.
SHARED_ROLES = {"process_owner": "Process owner", "auditor": "Auditor", "admin": "Administrator"}


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    subfolder: str                        # under bpmn/: one folder per process
    processes: tuple[str, ...]
    process_names: Mapping[str, str]
    roles: Mapping[str, str]              # lane role code -> label (queue roles)
    escalation_roles: tuple[str, ...]     # overdue work: level 1, level 2
    milestones: Mapping[str, str]         # code -> label
    milestone_order: tuple[str, ...]      # the order a child's page lists them in
    holiday_region: str                   # due_rules region: SCT, ENG
    wording: Mapping[str, str] = field(default_factory=dict)
    # Why a child's journey may end before its diagram ends it (workflows/services/
    # journey_endings.py), and the milestone that records the ending with its reason.
    early_endings: tuple[EarlyEnding, ...] = ()
    ending_milestone: str = "JOURNEY_ENDED"

    def early_ending(self, code: str | None) -> EarlyEnding | None:
        return next((e for e in self.early_endings if e.code == code), None)

    def process_folder(self, process_id: str, base: Path = BPMN_DIR) -> Path:
        return Path(base) / self.subfolder / process_id

    def role_label(self, code: str) -> str:
        return self.roles.get(code) or SHARED_ROLES.get(code) or code.replace("_", " ").capitalize()

    def as_dict(self) -> dict:
        """Plain data for templates and JSON."""
        return {"name": self.name, "title": self.title, "processes": dict(self.process_names),
                "roles": dict(self.roles), "shared_roles": dict(SHARED_ROLES),
                "escalation_roles": list(self.escalation_roles),
                "milestones": {code: self.milestones[code] for code in self.milestone_order},
                "holiday_region": self.holiday_region, "wording": dict(self.wording)}


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


SCOTLAND_PROFILE = Profile(
    name="scotland",
    title="Scotland: permanence planning (PACE)",
    subfolder="",
    processes=vocabulary.PROCESSES,
    process_names=_frozen({vocabulary.PERMANENCE: "Permanence journey",
                           vocabulary.CSO_HOME: "CSO at home review"}),
    roles=_frozen({code: label for code, label in vocabulary.ROLES.items()
                   if code in vocabulary.QUEUE_ROLES}),
    escalation_roles=vocabulary.ESCALATION_ROLES,
    milestones=_frozen(vocabulary.MILESTONES),
    milestone_order=vocabulary.JOURNEY_ORDER + vocabulary.CSO_ORDER,
    holiday_region=SCOTLAND,
    early_endings=ending_reasons.SCOTLAND,
    wording=_frozen({
        "child_looked_after": "Looked after and accommodated",
        "start_child": "Accommodate a child",
        "review": "Looked-after review",
        "review_chair": "Independent chair",
        "first_line_manager": "Team leader",
        "senior_manager": "Service manager",
        "plan": "Child's plan",
        "court": "Children's Hearing or Sheriff Court",
        "legal_team": "Legal services",
        "statutory_return": "Children looked after statistics (CLAS)",
        "bank_holidays": "Scottish bank holidays",
        "no_process": "This child is not on a PACE process.",
        "entry_intro": "Adding the child starts the permanence journey, or the review loop of a "
                       "CSO at home; the first tasks go to the team queues.",
    }),
)

ENG_LOOKED_AFTER = "eng_looked_after"
ENG_LEGAL_STATUS = "eng_legal_status"
ENG_CARE_PROCEEDINGS = "eng_care_proceedings"

ENGLAND_MILESTONES = {
    "LA_START": "Started to be looked after",
    "PLACEMENT_START": "Placement started",
    "VISIT": "Statutory visit",
    "CARE_PLAN": "Care plan completed or updated",
    "PEP": "Personal education plan (PEP)",
    "HEALTH_ASSESSMENT": "Health assessment",
    "REVIEW_FIRST": "First looked-after review",
    "REVIEW": "Looked-after review",
    "DISPUTE_RAISED": "IRO dispute raised",
    "DISPUTE_INFORMAL": "Dispute: informal resolution",
    "DISPUTE_STAGE1": "Dispute: formal stage 1 (team manager)",
    "DISPUTE_STAGE2": "Dispute: formal stage 2 (service manager)",
    "DISPUTE_STAGE3": "Dispute: formal stage 3 (head of service)",
    "DISPUTE_STAGE4": "Dispute: formal stage 4 (director)",
    "CAFCASS_DECISION": "IRO decision on referral to Cafcass",
    "CEASE_PROPOSED": "Proposal to stop looking after the child",
    "CESSATION_REVIEW": "Review before the child stops being looked after",
    "CEASE_DECISION": "Nominated officer's decision on ceasing to look after the child",
    "ENTRY_ORDER": "Police protection, emergency protection order or remand",
    "S20_AGREEMENT": "Section 20 agreement",
    "S20_REVIEW": "Review of the use of section 20",
    "LEGAL_PLANNING": "Legal planning meeting",
    "PRE_PROCEEDINGS": "Pre-proceedings concluded",
    "PROCEEDINGS_ISSUED": "Care proceedings issued",
    "CMH": "Case management hearing",
    "LEGAL_STATUS": "Legal status changed",
    "FINAL_EVIDENCE": "Final evidence filed",
    "IRH": "Issues resolution hearing",
    "TIMETABLE_EXTENDED": "Case timetable extended",
    "FINAL_ORDER": "Final order",
    "CEASED": "Ceased to be looked after",
}

ENGLAND_PROFILE = Profile(
    name="england",
    title="England: looked-after children statutory cycle",
    subfolder="england",
    processes=(ENG_LOOKED_AFTER, ENG_LEGAL_STATUS, ENG_CARE_PROCEEDINGS),
    process_names=_frozen({ENG_LOOKED_AFTER: "Looked after: statutory visits and reviews",
                           ENG_LEGAL_STATUS: "Legal status at entry",
                           ENG_CARE_PROCEEDINGS: "Care proceedings: 26-week timetable"}),
    roles=_frozen({
        "social_worker": "Social worker",
        "team_manager": "Team manager",
        "service_manager": "Service manager",
        "head_of_service": "Head of service",
        "director": "Director of children's services",
        "iro": "Independent reviewing officer (IRO)",
        "designated_teacher": "Designated teacher",
        "health": "Looked-after children's health team",
        "legal": "Legal services",
    }),
    escalation_roles=("team_manager", "service_manager"),
    milestones=_frozen(ENGLAND_MILESTONES),
    milestone_order=tuple(ENGLAND_MILESTONES),
    holiday_region=ENGLAND,
    early_endings=ending_reasons.ENGLAND,
    ending_milestone="CEASED",
    wording=_frozen({
        "child_looked_after": "Looked after",
        "start_child": "Child becomes looked after",
        "review": "Looked-after review",
        "review_chair": "Independent reviewing officer (IRO)",
        "first_line_manager": "Team manager",
        "senior_manager": "Service manager",
        "plan": "Care plan",
        "court": "Family court",
        "legal_team": "Legal services",
        "statutory_return": "SSDA903 return",
        "bank_holidays": "England and Wales bank holidays",
        "no_process": "This child is not on a looked-after process.",
        "entry_intro": "Adding the child starts the statutory visits and reviews and the legal "
                       "status path (section 20 or section 31); the first tasks go to the team "
                       "queues.",
    }),
)

PROFILES: Mapping[str, Profile] = _frozen({p.name: p for p in (SCOTLAND_PROFILE, ENGLAND_PROFILE)})


class ProfileError(ValueError):
    pass


def names(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The enabled profile names from PACE_PROFILES, in the order given."""
    raw = (environ if environ is not None else os.environ).get(ENV, "") or DEFAULT
    found: list[str] = []
    for part in raw.replace(";", ",").split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in PROFILES:
            raise ProfileError(f"{ENV}={raw!r}: unknown profile {name!r}; "
                               f"known: {', '.join(PROFILES)}")
        if name not in found:
            found.append(name)
    return tuple(found) or (DEFAULT,)


def enabled(environ: Mapping[str, str] | None = None) -> tuple[Profile, ...]:
    return tuple(PROFILES[n] for n in names(environ))


def get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ProfileError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None


def for_process(process_id: str) -> Profile | None:
    return next((p for p in PROFILES.values() if process_id in p.processes), None)


def of_subject(subject: Subject) -> Profile:
    """The child's profile (children recorded before profiles existed are Scottish)."""
    return get((subject.attributes or {}).get("profile") or SCOTLAND_PROFILE.name)


def assign(subject: Subject, profile: Profile | str) -> None:
    """Put the child on a profile; a child already on another profile is a conflict."""
    profile = get(profile) if isinstance(profile, str) else profile
    current = (subject.attributes or {}).get("profile")
    if current and current != profile.name:
        raise Conflict(f"{subject.reference} is on the {get(current).title} profile, not "
                       f"{profile.title}; a child is on one profile only")
    if current != profile.name:
        subject.attributes = {**(subject.attributes or {}), "profile": profile.name}


def check_enabled(profile: Profile, environ: Mapping[str, str] | None = None) -> None:
    if profile.name not in names(environ):
        raise ProfileError(f"the {profile.title} profile is not enabled here "
                           f"({ENV}={','.join(names(environ))})")


# -- roles and wording for the web layer ----------------------------------------------
def queue_roles(profiles: Iterable[Profile] | None = None) -> frozenset[str]:
    """Lane roles of the given (default: enabled) profiles: what EngineConfig.roles holds."""
    profiles = enabled() if profiles is None else profiles
    return frozenset(code for p in profiles for code in p.roles)


def role_labels(profiles: Iterable[Profile] | None = None) -> dict[str, str]:
    """Every role a user may hold, with its label; a code two profiles share keeps the label
    of the first profile listed."""
    profiles = tuple(enabled() if profiles is None else profiles)
    labels: dict[str, str] = {}
    for p in profiles:
        for code, label in p.roles.items():
            labels.setdefault(code, label)
    labels.update({k: v for k, v in SHARED_ROLES.items() if k not in labels})
    return labels


def all_roles() -> frozenset[str]:
    """Role codes of every profile, enabled or not (accounts may be created ahead of go-live)."""
    return frozenset(role_labels(PROFILES.values()))


def role_label(code: str, subject_or_profile: Subject | Profile | str | None = None) -> str:
    """A role's label in the wording of a child's (or the named) profile; with neither, in
    the enabled profiles' wording (then any profile's)."""
    if isinstance(subject_or_profile, Subject):
        return of_subject(subject_or_profile).role_label(code)
    if isinstance(subject_or_profile, str):
        return get(subject_or_profile).role_label(code)
    if isinstance(subject_or_profile, Profile):
        return subject_or_profile.role_label(code)
    return (role_labels(enabled()).get(code) or role_labels(PROFILES.values()).get(code)
            or code.replace("_", " ").capitalize())


def manager_roles(profiles: Iterable[Profile] | None = None) -> frozenset[str]:
    """Roles that oversee a team's work: those overdue work escalates to."""
    profiles = enabled() if profiles is None else profiles
    return frozenset(code for p in profiles for code in p.escalation_roles)


def escalated_to(level: int, subject: Subject) -> str:
    """The label of the role a task of this child reaches at this escalation level."""
    chain = of_subject(subject).escalation_roles
    if not chain or level < 1:
        return ""
    return role_label(chain[min(level, len(chain)) - 1], subject)


def milestone_label(code: str, process_id: str | None = None) -> str:
    profile = for_process(process_id) if process_id else None
    for p in ((profile,) if profile else tuple(PROFILES.values())):
        if code in p.milestones:
            return p.milestones[code]
    return code.replace("_", " ").capitalize()


def process_name(process_id: str | None, fallback: str = "Process") -> str:
    """A process's name as its profile gives it ("CSO at home review"), never its id."""
    profile = for_process(process_id) if process_id else None
    return profile.process_names.get(process_id, fallback) if profile else fallback


def web_data(environ: Mapping[str, str] | None = None) -> dict:
    """Everything the web layer needs per enabled profile, as plain data."""
    return {"enabled": list(names(environ)),
            "profiles": {p.name: p.as_dict() for p in enabled(environ)},
            "role_labels": role_labels(enabled(environ))}


# -- the engine configuration ----------------------------------------------------------
_region: ContextVar[str | None] = ContextVar("pace_holiday_region", default=None)


class ProfileRules(DueRules):
    """DueRules whose bank-holiday calendar is that of the process being worked on.

    The runtime below sets the region whenever it loads or starts an instance, so every
    due date, reminder, escalation and timer resolved for it uses that process's calendar.
    """

    def __init__(self, regions_by_process: Mapping[str, str], default: str = SCOTLAND,
                 settings=None):
        super().__init__(default, settings)
        self.regions_by_process = dict(regions_by_process)

    def region_for(self, process_id: str) -> str:
        return self.regions_by_process.get(process_id, self.region)

    def current_region(self) -> str:
        return _region.get() or self.region

    def resolve(self, rule: str, anchors: Mapping[str, date]) -> date | None:
        return resolve(rule, anchors, self.current_region(), self.settings)

    def shift(self, day: date, offsets: str) -> list[date]:
        region = self.current_region()
        return [apply_offset(day, off, region) for off in parse_offsets(offsets)]


class ProfileRuntime(Runtime):
    """The engine's Runtime, telling ProfileRules which process it is working on."""

    def _use_region(self, process_id: str):
        region_for = getattr(self.config.rules, "region_for", None)
        return _region.set(region_for(process_id) if region_for else None)

    def load_workflow(self, instance: ProcessInstance):
        # Every command loads the instance before resolving any rule for it.
        self._use_region(instance.process_id)
        return super().load_workflow(instance)

    def start(self, session, process_id, subject, data, actor, *, parent=None):
        token = self._use_region(process_id)
        try:
            return super().start(session, process_id, subject, data, actor, parent=parent)
        finally:
            _region.reset(token)


def rules_for(profiles: tuple[Profile, ...], settings=None) -> DueRules:
    """``settings``: what a due rule's ``{name}`` is read from (None: refused)."""
    regions = {p.holiday_region for p in profiles}
    if len(regions) == 1:
        return DueRules(profiles[0].holiday_region, settings)
    return ProfileRules({pid: p.holiday_region for p in profiles for pid in p.processes},
                        profiles[0].holiday_region, settings)


def escalation_chains(profiles: Iterable[Profile]) -> dict[str, tuple[str, ...]]:
    """Each process's escalation chain: that of the profile the process belongs to."""
    return {pid: p.escalation_roles for p in profiles for pid in p.processes}


def engine_config(profiles: tuple[Profile, ...] | None = None, settings=None,
                  **kwargs) -> EngineConfig:
    """EngineConfig for the profiles: lanes of every one of them are roles; each process
    escalates along its own profile's chain (a process of no profile: the first profile's)."""
    profiles = enabled() if profiles is None else tuple(profiles)
    kwargs.setdefault("date_rules", milestone_dates.policy(profiles))
    return EngineConfig(rules=rules_for(profiles, settings), roles=queue_roles(profiles),
                        escalation_roles=profiles[0].escalation_roles,
                        escalation_chains=escalation_chains(profiles), **kwargs)


def make_runtime(config: EngineConfig) -> Runtime:
    return ProfileRuntime(config)
