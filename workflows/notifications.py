"""PACE wording and defaults for the engine's notifications (engine/notifications.py).

Who hears what is the engine's default rule set (assignments, reminders before the due
date, overdue and escalation to the team leader then the service manager, a task brought
by a timer such as the Aim 1 review alert, a child's process moved to a new diagram
version). Here: what each kind is called, how it reads, and which go by e-mail at once.
Children are named by their council reference only, never by name, in notices and mail.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.notifications import DEFAULT_RULES, DIGEST, Kind, NotificationPolicy, Rule

from . import profiles

TEMPLATES = Path(__file__).resolve().parent / "templates" / "mail"

KINDS = {
    "assigned": Kind("A task is assigned to you",
                     hint="{A manager} gives you a task, or moves one to you."),
    "unassigned": Kind("A task you held is moved away from you",
                       hint="{A manager} releases your task or gives it to someone else."),
    "reminder": Kind("Reminder before a task is due",
                     hint="Sent a set time before the due date (the diagram's reminder rule)."),
    "overdue": Kind("Your task is overdue", mode="digest",
                    hint="When a task you hold, or in your queue, is escalated for being late."),
    "escalation": Kind("An overdue task is escalated to you",
                       hint="{Managers} first, then service managers."),
    "alert": Kind("A review alert brings a task to your queue",
                  hint="For example the Aim 1 review alert, weeks before the review is due."),
    "migrated": Kind("A child you work with moves to a new process version", mode="digest",
                     hint="After a process owner deploys a change (a PDSA cycle)."),
    "ended_early": Kind("The journey of a child you work with ends early",
                        hint="{A manager} ends it (a parent removed the child from voluntary "
                             "care, the child moved council), or the child turns 18."),
    DIGEST: Kind("Daily e-mail of tasks due this week and overdue", mode="digest",
                 hint="One e-mail each morning, grouped by child.", choices=("digest", "none")),
    # Written by workflows/services/handover.py (a leaver, a changed role or team), not
    # derived from a rule: shown in the notification centre only.
    "team_change": Kind("A person in your team leaves or changes role, and their tasks come "
                        "back to the queue", mode="none", choices=("none",),
                        hint="Shown here only, not by e-mail."),
}

TEXTS = {
    "assigned": ("Assigned to you: {task} for child {reference}",
                 "{actor} gave you “{task}” for child {reference}. It is due {due}."
                 "{reason_note}"),
    "unassigned": ("No longer yours: {task} for child {reference}",
                   "{actor} moved “{task}” for child {reference} away from you."),
    "reminder": ("Reminder: {task} for child {reference} is due {due}",
                 "“{task}” for child {reference} is due {due} ({due_in}). "
                 "Allow time for meetings and reports to be organised."),
    "overdue": ("Overdue: {task} for child {reference} was due {due}",
                "“{task}” for child {reference} was due {due} and has been escalated to the "
                "{to_role}."),
    "escalation": ("Escalated to you: {task} for child {reference}, {days_overdue} days overdue",
                   "“{task}” for child {reference} was due {due}. It is escalated to you as "
                   "{to_role}."),
    "alert": ("Alert: {task} for child {reference}, due {due}",
              "The alert date has passed: “{task}” for child {reference} is in your queue and "
              "is due {due}, leaving time for the meeting to be organised."),
    "ended_early": ("Journey ended early for child {reference}",
                    "The journey of child {reference} has ended early.{reason_note} Its open "
                    "tasks were withdrawn: nothing more is due for it."),
    "migrated": ("Process changed for child {reference}",
                 "The {process} for child {reference} moved from version {from_version} to "
                 "version {to_version}. Due dates of open tasks were recomputed; check them."),
}

# The engine's rules, and the child's allocated worker hears when a journey ends early
# (workflows/services/journey_endings.py): their tasks for the child are gone.
RULES = DEFAULT_RULES + (Rule("instance_ended_early", "ended_early", "subject_workers"),)

FOOTER = ("This e-mail names children by their council reference only. Sign in to see their "
          "records. Do not forward it outside the service.")


def role_label(code: str) -> str:
    """The role as it reads mid-sentence ("escalated to the team manager"), in the words of
    the enabled profiles; names and abbreviations keep their capitals."""
    name = profiles.role_label(code)
    keep = name == "Agency Decision Maker" or name.split(" ")[0].isupper()
    return name if keep else name[:1].lower() + name[1:]


def kinds(enabled: tuple[profiles.Profile, ...] | None = None) -> dict[str, Kind]:
    """KINDS with the first-line managers of the enabled profiles named in the hints
    ("A team leader gives you a task"; "A team leader or team manager" with both)."""
    enabled = profiles.enabled() if enabled is None else enabled
    managers = list(dict.fromkeys(p.wording["first_line_manager"].lower() for p in enabled))
    words = {"A manager": "A " + " or ".join(managers),
             "Managers": " and ".join(f"{m}s" for m in managers).capitalize()}
    return {code: replace(kind, hint=kind.hint.format(**words)) if kind.hint else kind
            for code, kind in KINDS.items()}


def pace_notifications() -> NotificationPolicy:
    return NotificationPolicy(
        rules=RULES, kinds=kinds(), texts=TEXTS, role_label=role_label,
        service_name="PACE Flow", reference_label="Child", mail_footer=FOOTER,
        mail_reason_note=" The reason is on the task's page in PACE Flow: sign in to read it.",
        task_link="/tasks/{id}", subject_link="/children/{id}",
        template_dirs=(TEMPLATES,) if TEMPLATES.is_dir() else ())
