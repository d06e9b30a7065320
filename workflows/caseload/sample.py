"""Plausible caseload rows at every stage, for tests, benchmarks and trying the import.

The rows respect the shipped diagrams' timescales where placement depends on them: an Aim 1
review is held no earlier than 17 months into the order and a booking is recorded only
after the review alert (18 months less 6 weeks, then 6 months less 6 weeks after the last
review). A council that lengthens those may see some sample CSO rows rejected.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from workflows.caseload.csv_rows import ACCOMMODATED, CSO_AT_HOME

ROUTE_WEIGHTS = {"home": 3, "kinship": 2, "permanence_order": 2, "adoption": 2, None: 2}
# (column, days after the previous step: low, high)
COMMON = (("PLANNING_MTG", 0, 6), ("INITIAL_LAR", 14, 30), ("INTERIM_LAR", 55, 80),
          ("LEGAL_REFERRAL", 80, 120), ("LEGAL_OPINION", 5, 20), ("PERM_RECOMMENDATION", 1, 40))
AFTER = {"home": (("RETURN_HOME", 7, 40), ("ORDER_GRANTED", 80, 110)),
         "kinship": (("APPLICATION_LODGED", 20, 70), ("ORDER_GRANTED", 60, 140))}
COURT = (("CAPR", 30, 70), ("PANEL", 20, 50), ("ADM", 3, 20), ("APPLICATION_LODGED", 20, 60),
         ("ORDER_GRANTED", 90, 220))
# What the last Aim 1 review recommended ("": not in the records, imported as not recorded)
RECOMMENDATION_WEIGHTS = {"continue": 5, "terminate": 2, "vary": 2, "": 1}
NAMES = ["Ava", "Ben", "Cara", "Dylan", "Erin", "Finn", "Gracie", "Harris", "Isla", "Jack",
         "Kayla", "Lewis", "Maisie", "Noah", "Olivia", "Rory", "Sophie", "Zak"]


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _accommodated(rng: random.Random, row: dict, today: date) -> None:
    day = today - timedelta(days=rng.randint(1, 1100))
    row["LA_START"] = _iso(day)
    route = rng.choices(list(ROUTE_WEIGHTS), list(ROUTE_WEIGHTS.values()))[0]
    stop = rng.randint(0, 12)  # how far along the child is, unless today comes first
    plan = list(COMMON if route else COMMON[:-1]) + list(AFTER.get(route, COURT) if route else ())
    for number, (column, low, high) in enumerate(plan):
        day = day + timedelta(days=rng.randint(low, high))
        if day > today or number >= stop:
            break
        row[column] = _iso(day)
        if column == "PERM_RECOMMENDATION":
            row["route"] = route
    if "PERM_RECOMMENDATION" not in row and "LEGAL_OPINION" in row and rng.random() < 0.4:
        held = date.fromisoformat(row["LEGAL_OPINION"]) + timedelta(days=rng.randint(1, 30))
        if held <= today:
            row.update(route="not_decided", last_undecided_lar=_iso(held),
                       next_review_date=_iso(held + timedelta(days=rng.randint(30, 90))))
    elif "INTERIM_LAR" in row and "LEGAL_REFERRAL" not in row and rng.random() < 0.5:
        row["next_review_date"] = _iso(date.fromisoformat(row["INTERIM_LAR"])
                                       + timedelta(days=rng.randint(90, 130)))
    if route == "adoption" and "CAPR" in row:
        row["order_sought"] = rng.choice(["adoption_order",
                                          "permanence_order_with_authority_to_adopt"])


def _cso(rng: random.Random, row: dict, today: date) -> None:
    start = today - timedelta(days=rng.randint(1, 1500))
    row["CSO_START"] = _iso(start)
    earliest = start + relativedelta(months=17)
    if earliest <= today and rng.random() < 0.6:
        review = earliest + timedelta(days=rng.randint(0, 120))
        if review <= today:
            row["AIM1_REVIEW"] = _iso(review)
            hearing = review + timedelta(days=rng.randint(7, 45))
            if hearing <= today:
                row["CSO_HEARING"] = _iso(hearing)
                if review + relativedelta(months=5) <= today and rng.random() < 0.5:
                    row["next_review_date"] = _iso(review + relativedelta(months=6))
            return
    if earliest <= today and rng.random() < 0.3:
        row["next_review_date"] = _iso(start + relativedelta(months=18))


def sample_rows(count: int, today: date, *, seed: int = 2026, teams=("north", "south"),
                workers: dict[str, str] | None = None, prefix: str = "S") -> list[dict[str, str]]:
    """``count`` rows ({column: cell}); a quarter of the children are on a CSO at home.
    ``workers``: team → user name of the allocated worker (none when missing)."""
    rng = random.Random(seed)
    outcomes = random.Random(seed + 1)  # its own stream: the dates stay those of any seed
    rows = []
    for number in range(1, count + 1):
        team = rng.choice(list(teams))
        row = {"reference": f"{prefix}{number:06d}",
               "name": f"{rng.choice(NAMES)} {chr(65 + number % 26)}.",
               "team": team, "allocated_worker": (workers or {}).get(team, ""),
               "legal_status": CSO_AT_HOME if number % 4 == 0 else ACCOMMODATED}
        (_cso if number % 4 == 0 else _accommodated)(rng, row, today)
        if "AIM1_REVIEW" in row:  # blank only once the Hearing has decided (csv_rows)
            weights = {k: w for k, w in RECOMMENDATION_WEIGHTS.items() if k or "CSO_HEARING" in row}
            row["aim1_recommendation"] = outcomes.choices(list(weights), list(weights.values()))[0]
            if row["aim1_recommendation"] == "continue":  # no hearing after "continue"
                row.pop("CSO_HEARING", None)
        start = date.fromisoformat(row.get("LA_START") or row["CSO_START"])
        row["date_of_birth"] = _iso(start - timedelta(days=rng.randint(0, 5800)))
        rows.append(row)
    return rows
