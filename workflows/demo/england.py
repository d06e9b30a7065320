"""An English caseload built through the real runtime (``pace demo --profile england``).

Like the Scottish demo (workflows/demo/scotland.py), each child is played forward from the day they
became looked after with the clock injected: whoever holds the task's role completes it on or
before its due date (or late, for children who drift), timers fire when their date passes,
and whatever falls after "today" is left open. The answers steer every route of the English
diagrams: placement moves, visit frequencies as the care plan and regulation 28 allow (weekly
until the first review on temporary approval, 3-monthly only after a long-term placement's
first year), IRO challenges and the dispute stages up to the director, section 20 (with informed
consent and the 6-monthly review of a long section 20), section 31, police protection and EPO
entry, care proceedings with final orders and extensions, children leaving care (under section
20 through the regulation 39 review and approval). With ``drift=0`` the caseload keeps every statutory
timescale, so its SSDA903 export passes validation (tests rely on that).
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from engine import clock, form_schemas
from engine.models import ProcessInstance, Timer, WorkItem

from workflows import sample_answers
from workflows.demo import scotland as demo
from workflows.children import england
from workflows.demo.scotland import DEMO_PASSWORD, DemoResult, at
from workflows.due_rules import ENGLAND, add_working_days

TEAMS = {"east": "Children in Care East", "west": "Children in Care West"}
# (username, name, roles, team)
ENGLAND_USERS = [
    ("eng.sw.east", "Emma Clarke", ["social_worker"], "east"),
    ("eng.sw2.east", "Hassan Ali", ["social_worker"], "east"),
    ("eng.tm.east", "Tariq Malik", ["team_manager"], "east"),
    ("eng.sw.west", "Sophie Turner", ["social_worker"], "west"),
    ("eng.tm.west", "Grace Owusu", ["team_manager"], "west"),
    ("eng.iro", "Irene Oduya", ["iro"], None),
    ("eng.teacher", "Daniel Price", ["designated_teacher"], None),
    ("eng.health", "Nadia Hussain", ["health"], None),
    ("eng.legal", "Laura Bennett", ["legal"], None),
    ("eng.manager", "Martin Shaw", ["service_manager"], None),
    ("eng.hos", "Priya Natarajan", ["head_of_service"], None),
    ("eng.director", "Helen Barker", ["director"], None),
    ("eng.owner", "Olivia Reed", ["process_owner"], None),
    ("eng.auditor", "Alan Fox", ["auditor"], None),
    ("eng.admin", "Amira Khan", ["admin"], None),
]
FOSTER = ("U1", "U3", "U4", "U6")
PLACEMENTS = {"U1": 2, "U3": 2, "U4": 3, "U6": 6, "K2": 2, "R1": 1}
PROVIDER_FOR = {"U1": ("PR1",), "U3": ("PR1",), "U4": ("PR1", "PR4", "PR5"),
                "U6": ("PR1", "PR4", "PR5"), "K2": ("PR1", "PR4"), "R1": ("PR4", "PR5")}
ETHNIC_WEIGHTS = {"WBRI": 60, "WOTH": 5, "MWBC": 6, "MWBA": 2, "MWAS": 2, "MOTH": 3, "APKN": 4,
                  "ABAN": 2, "AIND": 2, "AOTH": 2, "BAFR": 4, "BCRB": 3, "BOTH": 1, "CHNE": 1,
                  "OOTH": 2, "WROM": 1}
POSTCODES = ("LS1 4AB", "LS6 2CD", "LS8 3EF", "LS9 7GH", "LS11 5JK", "LS12 2LM", "BD3 8NP",
             "WF1 2QR", "HX1 3ST", "HD1 4UV")


CAST = demo.Cast("English demo sign-ins", TEAMS, ENGLAND_USERS)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


class _Child:
    """One child's circumstances and the answers their workers give."""

    def __init__(self, rng: random.Random, number: int, today: date, drift: float, days: int):
        self.rng = rng
        self.reference = f"E{number:05d}"
        self.team = rng.choice(list(TEAMS))
        self.la_start = today - timedelta(days=days)
        self.dob = self.la_start - timedelta(days=rng.randint(30, 16 * 365))
        self.sex = rng.choice("MF")
        roll = rng.random()
        # Police protection and EPOs are recorded as what they are, then (in the demo) become
        # section 20 or proceedings; remand is left out (no youth justice in this caseload).
        self.legal_status = ("s31" if roll < 0.35 else "police_protection" if roll < 0.38
                             else "emergency_protection_order" if roll < 0.40 else "s20")
        self.s20 = self.legal_status == "s20"
        self.placement = _weighted(rng, PLACEMENTS)
        self.home = rng.choice(POSTCODES)
        self.drift = drift
        self.ceased = False
        self.placement_start = self.la_start
        self.arrangement = self.placement_arrangement()
        self.reviewed = False  # the first review held (weekly visits stop for some placements)

    def header(self) -> dict:
        rng = self.rng
        upn = f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{rng.randrange(10 ** 12):012d}"
        header = {"sex": self.sex, "ethnicity": _weighted(rng, ETHNIC_WEIGHTS),
                  "upn": upn if self.age_on(self.la_start) >= 4 else "UN1"}
        if self.sex == "F":
            header["mother"] = 0
        return header

    def entry(self) -> dict:
        return {"la_start": self.la_start, "legal_status": self.legal_status,
                "category_of_need": _weighted(self.rng, {"N1": 60, "N2": 3, "N3": 4, "N4": 9,
                                                         "N5": 15, "N6": 2, "N7": 1, "N8": 6}),
                "placement_type": self.placement,
                "placement_provider": self.rng.choice(PROVIDER_FOR[self.placement]),
                "home_postcode": self.home, "placement_postcode": self.placement_postcode()}

    def placement_arrangement(self) -> str:
        """What kind of placement it is, as the first visit records it (regulation 28)."""
        if self.placement in ("U1", "U4"):
            return "long_term"
        if self.placement == "U3" and self.rng.random() < 0.4:
            return "temporary_approval"
        if self.placement == "P1":
            return "parents_care_order" if self.legal_status == "s31" else "other"
        return "other"

    def visit_frequency(self, day: date) -> str:
        """The next visit's timescale as regulation 28 allows it: weekly until the first review
        on temporary approval; 3-monthly only after a long-term placement's first year."""
        rng = self.rng
        if self.arrangement in ("temporary_approval", "parents_interim_order") and not self.reviewed:
            return "weekly"
        after_first_year = day >= self.placement_start + relativedelta(years=1)
        if after_first_year and self.arrangement in ("long_term", "parents_care_order") \
                and rng.random() < 0.5:
            return "three_monthly"
        return "monthly" if rng.random() < 0.08 else "six_weekly"

    def ceasing(self) -> dict:
        """Ceasing under section 20 goes through a review and the nominated officer (reg. 39)."""
        return {"ceasing_under_s20": "yes" if self.s20 else "no"}

    def placement_postcode(self) -> str:
        return self.rng.choice([p for p in POSTCODES if p != self.home])

    def age_on(self, day: date) -> int:
        """Age in whole years, as the SSDA903 rules count it."""
        return day.year - self.dob.year - ((day.month, day.day) < (self.dob.month, self.dob.day))

    def completion_day(self, item: WorkItem, today: date) -> date:
        opened = clock.aware(item.created_at).date()
        due = item.due_date or opened
        if self.rng.random() < self.drift:
            day = due + timedelta(days=self.rng.randint(1, 40))
        else:
            # on time: a few days early, never before the task opened
            day = due - timedelta(days=self.rng.randint(0, 5))
        return max(opened, day)

    def answers(self, item: WorkItem, day: date, running_for: int) -> dict:
        """The steering answers for a task (forms are filled around them)."""
        rng, name = self.rng, item.task_name
        if name in ("first_visit", "visit_weekly", "visit_six_weekly", "visit_monthly",
                    "visit_three_monthly"):
            roll = rng.random()
            if running_for > 60 and roll < 0.015:
                self.ceased = True
                return {"placement_status": "ceased", "ceased_date": day,
                        "reason_ceased": self.reason_ceased(), **self.ceasing()}
            if roll < 0.06:
                self.placement = _weighted(rng, PLACEMENTS)
                self.placement_start = day
                self.arrangement = self.placement_arrangement()
                return {"placement_status": "moved", "new_placement_date": day,
                        "placement_type": self.placement,
                        "placement_provider": rng.choice(PROVIDER_FOR[self.placement]),
                        "placement_postcode": self.placement_postcode(),
                        "reason_place_change": rng.choice(("CARPL", "CREQB", "CREQO", "CHILD",
                                                           "STAND", "LAREQ"))}
            return {"placement_status": "continuing", "visit_frequency": self.visit_frequency(day),
                    "seen_alone": rng.random() < 0.85, "placement_arrangement": self.arrangement}
        if name == "cessation_review":
            return {"cessation_decision": "cease"}
        if name in ("approval_after_visit", "approval_after_review"):
            return {"approval": "approved", "ceased_date": day}
        if name in ("first_review", "review"):
            self.reviewed = True
            if name == "review" and running_for > 200 and rng.random() < 0.06:
                self.ceased = True
                return {"looked_after_status": "ceased", "ceased_date": day,
                        "reason_ceased": self.reason_ceased(), "plan_challenged": "no",
                        "participation": self.participation(day), "permanence_plan": "in_place",
                        **self.ceasing()}
            limit = relativedelta(months=3 if name == "first_review" else 6)
            next_review = day + limit - timedelta(days=rng.randint(3, 14))
            return {"looked_after_status": "continues", "next_review_date": next_review,
                    "plan_challenged": "yes" if rng.random() < 0.06 else "no",
                    "participation": self.participation(day),
                    "permanence_plan": "in_place" if name == "review" or rng.random() < 0.5
                    else "not_yet"}
        if name in ("informal_resolution", "formal_stage_1", "formal_stage_2", "formal_stage_3",
                    "formal_stage_4"):
            return {"outcome": "resolved" if rng.random() < 0.6 else "not_resolved"}
        if name == "cafcass_referral":
            return {"cafcass_decision": "referred" if rng.random() < 0.3 else "not_referred"}
        if name == "pep_review" or name == "initial_pep":
            return {"pep_status": "completed" if self.age_on(day) >= 4 else "not_applicable"}
        if name in ("initial_health_assessment", "health_assessment_review"):
            return {"assessment_status": "completed" if name.startswith("initial") or rng.random() < 0.7
                    else "current"}
        if name == "s20_agreement":
            return {"legal_planning_needed": "yes" if rng.random() < 0.2 else "no",
                    "has_parental_responsibility": True, "consent_informed": True}
        if name == "emergency_entry":
            if rng.random() < 0.75:
                self.s20 = True
                return {"order_date": self.la_start, "next_step": "s20", "s20_from": day}
            return {"order_date": self.la_start, "next_step": "apply_for_care_order",
                    "issue_date": day}
        if name == "s20_legal_review":
            return {"s20_review_outcome": "legal_planning" if rng.random() < 0.15 else "remain_s20"}
        if name == "legal_planning_meeting":
            decision = _weighted(rng, {"remain_s20": 5, "pre_proceedings": 3, "issue_proceedings": 2})
            return {"decision": decision, "issue_date": day}
        if name == "pre_proceedings":
            return {"outcome": "issue_proceedings" if rng.random() < 0.4 else "diverted",
                    "issue_date": day}
        if name == "record_interim_order":
            return {"issue_date": self.la_start - timedelta(days=rng.randint(1, 5)),
                    "order_date": self.la_start}
        if name == "case_management_hearing":
            return {"order_made": "interim_care_order"}
        if name in ("issues_resolution_hearing", "final_hearing"):
            if name == "final_hearing" and rng.random() < 0.15:
                return {"outcome": "timetable_extended", "extended_to": day + timedelta(weeks=8)}
            if name == "issues_resolution_hearing" and rng.random() < 0.5:
                return {"outcome": "final_hearing_needed"}
            order = _weighted(rng, {"care_order": 6, "placement_order": 1,
                                    "special_guardianship_order": 2, "child_arrangements_order": 1})
            return {"outcome": "final_order_made", "order_made": order}
        return {}

    def participation(self, day: date) -> str:
        if self.age_on(day) < 4:
            return "PN0"
        return _weighted(self.rng, {"PN1": 50, "PN2": 8, "PN3": 4, "PN4": 3, "PN5": 8,
                                    "PN6": 17, "PN7": 10})

    def reason_ceased(self) -> str:
        options = {"E4A": 5, "E13": 2, "E41": 1, "E8": 1}
        if self.placement in FOSTER:
            options.update({"E45": 1, "E46": 1})
        return _weighted(self.rng, options)


def _allowed(prop: dict, value):
    """A value the form's refusal rules (``x-refuse``, engine/choice_rules.py) never refuse,
    in place of one they might: a filled-in answer must not be refused for the worker."""
    refused = [a for rule in prop.get("x-refuse", []) for a in rule.get("answers", [])]
    if value not in refused:
        return value
    if prop.get("type") == "boolean":
        return not value
    options = [o.get("const") for o in prop.get("oneOf", [])] or list(prop.get("enum", []))
    return next((o for o in options if o not in refused), value)


def fill(schema: dict, day: date, rng: random.Random, answers: dict) -> dict:
    """The form filled around the given answers; dates not given are the day itself."""
    props = schema.get("properties", {})
    data = {}
    for name in schema.get("required", []):
        if name in props and name not in answers:
            data[name] = _allowed(props[name],
                                  sample_answers._value(name, props[name], day, rng, {}))
    data.update({k: (v.isoformat() if isinstance(v, date) else v) for k, v in answers.items()})
    validator = form_schemas.validator(schema)
    for _ in range(5):  # answers may make further fields required (if/then)
        missing = [e.message.split("'")[1] for e in validator.iter_errors(data)
                   if e.validator == "required" and "'" in e.message]
        if not missing:
            break
        for name in missing:
            if name in props:
                data[name] = _allowed(props[name],
                                      sample_answers._value(name, props[name], day, rng, {}))
    for name, prop in props.items():
        if prop.get("format") == "date" and name in data and name not in answers:
            data[name] = day.isoformat()
    return {k: v for k, v in data.items() if k in props}


def _play(session, runtime, child: _Child, subject_id: int, users, today: date,
          result: DemoResult) -> None:
    """Complete the child's tasks (and fire their timers) in date order up to today."""
    planned: dict[int, date] = {}
    next_timer = (select(Timer).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                  .where(ProcessInstance.subject_id == subject_id).order_by(Timer.fire_at).limit(1))
    while True:
        items = list(session.scalars(select(WorkItem).where(
            WorkItem.subject_id == subject_id, WorkItem.status.in_(("ready", "claimed")))))
        for item in items:
            if item.id not in planned:
                planned[item.id] = child.completion_day(item, today)
        next_item = min(items, key=lambda i: (planned[i.id], i.id)) if items else None
        item_day = planned[next_item.id] if next_item is not None else None
        timer = session.scalars(next_timer).first()
        timer_day = clock.aware(timer.fire_at).date() if timer else None
        if item_day is not None and (timer_day is None or item_day < timer_day):
            if item_day > today:
                return
            clock.set_now(at(item_day))
            instance = session.get(ProcessInstance, next_item.instance_id)
            schema, _ = runtime.form_for(instance, next_item.task_name)
            running_for = (item_day - child.la_start).days
            data = fill(schema, item_day, child.rng, child.answers(next_item, item_day, running_for))
            worker = users.get((next_item.role, next_item.team)) or users[(next_item.role, None)]
            runtime.complete(session, next_item.id, data, worker)
            result.completed_tasks += 1
            continue
        if timer_day is None or timer_day > today:
            return
        clock.set_now(at(timer_day, 7))
        instance = session.get(ProcessInstance, timer.instance_id)
        result.timers_fired += len(runtime.fire_timers(session, instance, "demo"))


def build(database, *, children: int = 391, seed: int = 903, today: date | None = None,
          if_empty: bool = False, drift: float | None = None, max_days: int = 420,
          skew: float = 1.6, sweep: bool = True) -> DemoResult | None:
    """Build ``children`` English children looked after for up to ``max_days`` before today.

    ``skew`` > 1 makes recent entrants more common than long stays (durations are
    ``max_days * random() ** skew``); ``drift`` is the share of tasks done late (default: a
    mix per child, as in the Scottish demo); ``drift=0`` keeps every timescale."""
    today = today or date.today()
    rng = random.Random(seed)
    if not demo.ready(database, CAST, if_empty):
        return None
    result = DemoResult(caseload="English caseload", left_care=0)
    first_names = ["Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Mia", "Jack", "Freya",
                   "Harry", "Lily", "Charlie", "Ella", "George", "Poppy", "Alfie", "Zara", "Musa"]
    try:
        for number in range(1, children + 1):
            child_drift = drift if drift is not None else rng.choice([0.03, 0.1, 0.3])
            # More recent entrants than long stays, as in a real caseload's flow.
            days = int(max_days * rng.random() ** skew)
            child = _Child(random.Random(rng.random()), number, today, child_drift, days)
            clock.set_now(at(child.la_start, 9))
            with database.transaction() as session:
                users = demo.workers(session, CAST)
                worker = users[("social_worker", child.team)]
                subject = england.register_child(
                    session, child.reference, f"{rng.choice(first_names)} {chr(65 + number % 26)}.",
                    child.team, "demo", date_of_birth=child.dob, allocated_worker_id=worker.id,
                    **child.header())
                england.become_looked_after(session, database.runtime, subject, child.entry(), "demo")
                _play(session, database.runtime, child, subject.id, users, today, result)
                result.children += 1
                result.left_care += child.ceased
        return demo.finish(database, result, today, sweep=sweep, mail=False)
    finally:
        clock.set_now(None)


def sign_in_text() -> str:
    return demo.sign_in_text(CAST)


def ensure_users(session, actor: str = "demo") -> None:
    demo.ensure_users(session, actor, CAST)


__all__ = ["build", "ensure_users", "sign_in_text", "ENGLAND_USERS", "DEMO_PASSWORD",
           "add_working_days", "ENGLAND"]
