"""Children and journeys built in memory for the measure tests (no database)."""
from __future__ import annotations

from datetime import date

from workflows.measures.data import Child, Reached, episode

_ids = iter(range(1, 1_000_000))


def child(team="north", dob=date(2014, 1, 1), ref=None):
    number = next(_ids)
    return Child(number, ref or f"C{number:05d}", f"Child {number}", team, dob)


def journey(la_start, decided=None, route="home", dob=date(2014, 1, 1), team="north",
            ended_on=None, more=()):
    reached = [Reached("LA_START", la_start)]
    if decided:
        reached.append(Reached("PERM_RECOMMENDATION", decided, data={"route": route}))
    reached += list(more)
    c = child(team, dob)
    return episode(c.id, c, reached, process_id="permanence_journey",
                   status="completed" if ended_on else "running", ended_on=ended_on)
