"""PACE roles, milestone codes and process ids (DOMAIN.md)."""
from __future__ import annotations

ROLES: dict[str, str] = {
    "social_worker": "Social worker",
    "team_leader": "Team leader",
    "independent_chair": "Independent chair",
    "legal_services": "Legal services",
    "panel_adviser": "Permanence panel adviser",
    "adm": "Agency Decision Maker",
    "service_manager": "Service manager",
    "process_owner": "Process owner",
    "auditor": "Auditor",
    "admin": "Administrator",
}
# Roles that appear as lanes and so hold work queues.
QUEUE_ROLES = frozenset({"social_worker", "team_leader", "independent_chair", "legal_services",
                         "panel_adviser", "adm", "service_manager"})
# Overdue work goes to the team leader first, then the service manager.
ESCALATION_ROLES = ("team_leader", "service_manager")

PERMANENCE = "permanence_journey"
CSO_HOME = "cso_home_review"
PROCESSES = (PERMANENCE, CSO_HOME)

MILESTONES: dict[str, str] = {
    "LA_START": "Looked after and accommodated",
    "PLANNING_MTG": "Planning meeting",
    "INITIAL_LAR": "Initial looked-after review",
    "INTERIM_LAR": "Interim review",
    "LEGAL_REFERRAL": "Referral for legal advice",
    "LEGAL_OPINION": "Legal advice given",
    "PERM_RECOMMENDATION": "Recommendation for permanence (substantive LAR)",
    "RETURN_HOME": "Returned home",
    "CAPR": "Child's Adoption and Permanence Report submitted",
    "PANEL": "Permanence panel",
    "ADM": "ADM decision",
    "APPLICATION_LODGED": "Application lodged in court",
    "ORDER_GRANTED": "Permanence achieved (order granted or return home confirmed)",
    # Version 2 of the permanence journey (docs/journey-changes.md): not in JOURNEY_ORDER,
    # whose consecutive pairs the stage-delay measures compare.
    "LAC_REVIEW": "Six-monthly looked-after review",
    "CSO_VARIATION": "Compulsory Supervision Order varied for the return home",
    "KINSHIP_ASSESSMENT": "Kinship carer assessment completed",
    "PERM_REPORTER_NOTIFIED": "Children's Reporter notified of the permanence application",
    "HEARING_ADVICE": "Children's Hearing's advice to the court",
    "FAMILY_FOUND": "Prospective adopters identified",
    "MATCH_PANEL": "Matching panel",
    "MATCH_ADM": "Agency decision on the match",
    "ADOPTIVE_PLACEMENT": "Placed with the prospective adopters",
    "ADOPTION_PETITION": "Adopters' petition lodged",
    "ADOPTION_ORDER": "Adoption order granted",
    "CSO_START": "Compulsory Supervision Order at home",
    "AIM1_REVIEW": "Aim 1 review",
    "REPORTER_NOTIFIED": "Reporter notified of the review's recommendation",
    "CSO_HEARING": "Children's Hearing decision",
    # Recorded by no task: a team leader ended the journey early (services/journey_endings.py).
    "JOURNEY_ENDED": "Journey ended early",
}
JOURNEY_ORDER = ("LA_START", "PLANNING_MTG", "INITIAL_LAR", "INTERIM_LAR", "LEGAL_REFERRAL",
                 "LEGAL_OPINION", "PERM_RECOMMENDATION", "RETURN_HOME", "CAPR", "PANEL", "ADM",
                 "APPLICATION_LODGED", "ORDER_GRANTED")
CSO_ORDER = ("CSO_START", "AIM1_REVIEW", "REPORTER_NOTIFIED", "CSO_HEARING")
