"""The example caseload file (docs/examples/caseload-example.csv), where each of its
children must land, and readers of the placement the import made."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from engine.models import AuditEvent, Milestone, ProcessInstance, Subject, Timer, WorkItem

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "caseload-example.csv"
TODAY = date(2026, 11, 23)
D = date.fromisoformat

# Where each child of the example file lands: (task, role, due) or what it waits for.
EXPECTED = {
    "EX001": ("planning_meeting", "team_leader", D("2026-11-23")),        # LA_START + 3d
    "EX002": ("initial_lar", "independent_chair", D("2026-11-23")),       # LA_START + 3w
    "EX003": ("interim_lar", "independent_chair", D("2026-12-07")),       # LA_START + 3m
    "EX004": ("legal_referral", "social_worker", D("2026-10-19")),        # LA_START + 30w - 2w
    "EX005": ("legal_referral", "social_worker", D("2026-11-30")),        # booked LAR - 2w
    "EX006": ("legal_opinion", "legal_services", D("2026-09-27")),        # LA_START + 30w - 1d
    "EX007": ("substantive_lar", "independent_chair", D("2026-08-31")),   # LA_START + 30w
    "EX008": ("substantive_lar", "independent_chair", D("2026-12-07")),   # the booked review
    "EX009": ("return_home_plan", "social_worker", D("2026-08-31")),      # recommendation + 4w
    "EX010": ("return_home_review", "independent_chair", D("2026-09-22")),  # RETURN_HOME + 3m
    "EX011": ("kinship_assessment", "social_worker", D("2026-09-14")),    # recommendation + 6w
    "EX012": ("kinship_order", "legal_services", D("2026-08-31")),        # lodged + 16w
    "EX013": ("capr", "social_worker", D("2026-10-12")),                  # recommendation + 8w
    "EX014": ("panel", "panel_adviser", D("2026-09-21")),                 # recommendation + 12w
    "EX015": ("adm_decision", "adm", D("2026-10-05")),                    # PANEL + 14d
    "EX016": ("lodge_application", "legal_services", D("2026-05-14")),    # ADM + 6w
    "EX017": ("court_order", "legal_services", D("2026-08-31")),          # lodged + 26w
    "EX018": ("family_finding", "social_worker", D("2026-01-19")),      # ORDER_GRANTED + 12w
    "EX019": "permanence_at_home",
    "EX020": ("timer", D("2027-07-22")),                                  # CSO_START + 18m - 6w
    "EX021": ("schedule_aim1_review", "team_leader", D("2026-06-12")),    # CSO_START + 18m - 4w
    "EX022": ("hold_aim1_review", "independent_chair", D("2026-12-01")),  # the booked review
    "EX023": ("notify_reporter", "social_worker", D("2026-10-27")),  # review + 5 working days
    "EX024": ("schedule_aim1_review", "team_leader", D("2026-03-04")),    # review + 6m - 4w
    "EX025": ("hold_aim1_review", "independent_chair", D("2026-01-12")),  # the booked review
    "EX026": ("timer", D("2027-01-09")),                                  # review + 6m - 6w
}


def placement(db) -> dict:
    found = {}
    with db.transaction() as session:
        for child in session.scalars(select(Subject).order_by(Subject.reference)):
            items = session.execute(select(WorkItem.task_name, WorkItem.role, WorkItem.due_date).where(
                WorkItem.subject_id == child.id,  # held by the allocated worker or in a queue
                WorkItem.status.in_(("ready", "claimed")))).all()
            (instance,) = session.scalars(select(ProcessInstance).where(
                ProcessInstance.subject_id == child.id)).all()
            timers = session.scalars(select(Timer.fire_at).where(Timer.instance_id == instance.id)).all()
            # beside the permanence journey's route, its six-monthly review once its alert fired
            items = [i for i in items if i.task_name != "six_monthly_review"]
            if items:
                (found[child.reference],) = [tuple(i) for i in items]
            elif instance.status == "completed":
                found[child.reference] = instance.end_event
            else:
                (found[child.reference],) = [("timer", t.date()) for t in timers]
    return found


def counts(db) -> dict:
    with db.transaction() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Subject, ProcessInstance, WorkItem, Milestone, Timer, AuditEvent)}
