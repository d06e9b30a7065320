"""Who is in the Scottish demo caseload: families of one to three children, each child's age
when its journey started, and how the family's reviews tend to go.

The cast is drawn from its own random stream, apart from the one that plays the children
forward (``scotland.play``): a diagram that asks one more question changes how the play
goes, never who the children are. The mix follows the councils' PACE reports (the domain
brief's sources) wherever they give a figure, and says so where they do not:

- Sibling groups. Midlothian: "32 children (25 families) have entered PACE", 1.28 children a
  family. ``SIZES`` repeats 14 families of 18 children (1.29): two pairs and a three.
- Ages. Midlothian's Aim 2 counts children *under 12* at accommodation, so a caseload needs
  older children for that setting to leave out, and babies are where adoption and quick
  decisions matter most. The reports give no age split; ``AGE_BANDS`` is the demo's own
  (babies under 1, toddlers 1-4, primary 5-12, teenagers 13-17).
- Routes. The reports give no split across the four routes; they put return home first
  ("if it is safe to do so, we want children to live at home", CELCIS Aim 1 webinar).
  Adoption is for young children: teenagers are never drawn for it.
- Drift. Midlothian: of 25 children decided or past 7.5 months, 4 (16%) were still
  undecided past the deadline; Argyll & Bute: "we still have to have a plan for the children
  still waiting". One accommodated family in six (``PLANS``) hears "not yet decided" at
  every review, and the others sometimes do before they decide. Each family does 10%, 30%
  or 60% of its tasks late (South Ayrshire: "significant drift and delay").
- Aim 1. South Ayrshire: "80% have a recommendation to terminate the Compulsory
  Supervision Order" (``scotland.WEIGHTS["recommendation"]``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

# Family sizes in the order families are made: 14 families, 18 children, then again.
SIZES = (1, 2, 1, 1, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1)
# (band, youngest and oldest age in whole years when the journey starts, weight)
AGE_BANDS = (("baby", 0, 0, 30), ("toddler", 1, 4, 20), ("primary", 5, 12, 25),
             ("teenager", 13, 17, 25))
# What the reviews of an accommodated family come to, dealt like cards (so 18 families
# always hold this mix): home 7, kinship 4, permanence order 2, adoption 2, and 3 families
# (1 in 6) whose every review says "not yet decided". A deciding family's review says "not
# yet decided" one time in five before it settles on its route (drift that ends).
PLANS = {"home": 7, "kinship": 4, "permanence_order": 2, "adoption": 2, "not_decided": 3}
# The route weights of a family on a CSO at home, whose review comes only if a Hearing
# moves the child away from home.
ROUTES = {"home": 7, "kinship": 4, "permanence_order": 2, "adoption": 2, "not_decided": 4}
FIRST_NAMES = ["Ava", "Ben", "Cara", "Dylan", "Erin", "Finn", "Gracie", "Harris", "Isla", "Jack",
               "Kayla", "Lewis", "Maisie", "Noah", "Olivia", "Rory", "Sophie", "Zak", "Amira",
               "Callum", "Eilidh", "Jamie", "Leah", "Mohammed", "Niamh", "Oscar", "Ruby", "Taylor"]
SURNAMES = ["Anderson", "Brown", "Campbell", "Docherty", "Fraser", "Gallacher", "Hamilton",
            "Kerr", "MacDonald", "McLean", "Murray", "Paterson", "Reid", "Robertson", "Scott",
            "Sinclair", "Stewart", "Thomson", "Wallace", "Watson", "Wilson", "Young"]


@dataclass(frozen=True)
class Child:
    number: int
    name: str
    family: str | None          # a reference shared by brothers and sisters; None alone
    born: date
    start: date                 # accommodated, or the CSO at home made
    on_cso: bool
    team: str
    drift: float                # the share of the family's tasks done late
    routes: dict[str, int]      # weights of the substantive review's route


def _routes(plan: str | None, years: int) -> dict[str, int]:
    """The review's route weights for a child of ``years`` in a family with ``plan`` (None:
    a family on a CSO at home, whose review comes only if the Hearing moves the child away):
    a teenager is not adopted (a permanence order instead)."""
    if plan is None:
        return {k: v for k, v in ROUTES.items() if years < 13 or k != "adoption"}
    if plan == "adoption" and years >= 13:
        plan = "permanence_order"
    return {"not_decided": 1} if plan == "not_decided" else {plan: 4, "not_decided": 1}


def band_of(born: date, start: date) -> str:
    """The age band (``AGE_BANDS``) of a child born ``born`` whose journey began ``start``."""
    years = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
    return next(name for name, _, oldest, _ in AGE_BANDS if years <= oldest)


def _born(rng: random.Random, start: date, years: int) -> date:
    return start - timedelta(days=years * 365 + rng.randint(20, 340))


def _ages(rng: random.Random, size: int) -> list[int]:
    """Whole years at the start, eldest first: a group's eldest is past babyhood and each
    younger one 1 to 4 years younger (a baby when that would be under one)."""
    bands = AGE_BANDS if size == 1 else AGE_BANDS[1:]
    _, youngest, oldest, _ = rng.choices(bands, [b[3] for b in bands])[0]
    ages = [rng.randint(max(youngest, size - 1), oldest)]
    for _ in range(size - 1):
        ages.append(max(0, ages[-1] - rng.randint(1, 4)))
    return ages


def cast(children: int, seed: int, today: date, teams: list[str]) -> list[Child]:
    """``children`` children in families, numbered from 1, the same for the same arguments."""
    rng = random.Random(f"pace-demo-cast-{seed}")
    found: list[Child] = []
    family_number, deck = 0, []
    while len(found) < children:
        size = min(SIZES[family_number % len(SIZES)], children - len(found))
        family_number += 1
        on_cso = family_number % 4 == 3  # a quarter of families, from the third
        start = today - timedelta(days=rng.randint(300, 1100) if on_cso else rng.randint(1, 730))
        team, drift = rng.choice(teams), rng.choice([0.1, 0.3, 0.6])
        if not deck:
            deck = [plan for plan, n in PLANS.items() for _ in range(n)]
            rng.shuffle(deck)
        plan = None if on_cso else deck.pop()
        surname, names = rng.choice(SURNAMES), rng.sample(FIRST_NAMES, size)
        for years, first in zip(_ages(rng, size), names, strict=True):
            number = len(found) + 1
            found.append(Child(number, f"{first} {surname}",
                               f"F{family_number:04d}" if size > 1 else None,
                               _born(rng, start, years), start, on_cso, team, drift,
                               _routes(plan, years)))
    return found
