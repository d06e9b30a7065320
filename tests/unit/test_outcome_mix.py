"""Aim 1's outcome mix counts each recommendation the first reviews made, and 0 for one that
none made: a category nobody chose must never read as one review (issue 31: mutation testing
found that no test noticed ``counts.get(code, 1)``), nor lose its row."""
from datetime import date

import pytest

from workflows.measures import aim_results
from workflows.measures.aims import DEFAULT_AIMS
from workflows.measures.aim_statuses import RECOMMENDATIONS
from workflows.measures.data import Reached, episode

from .caseloads import child

D = date.fromisoformat


def reviewed(start: str, review: str | None, recommendation: str | None):
    reached = [Reached("CSO_START", D(start))]
    if review:
        reached.append(Reached("AIM1_REVIEW", D(review), data={"recommendation": recommendation}))
    c = child(dob=date(2015, 5, 5))
    return episode(c.id, c, reached, process_id="cso_home_review", status="running")


def mix_of(*episodes) -> dict:
    result = aim_results.aim1(list(episodes), DEFAULT_AIMS[1], D("2024-08-01"))
    return {code: (count, share) for code, _label, count, share in result.outcome_mix()}


def test_a_recommendation_nobody_made_counts_0_of_the_reviews():
    mix = mix_of(reviewed("2023-01-01", "2023-06-01", "terminate"),
                 reviewed("2023-01-01", "2023-07-01", "terminate"),
                 reviewed("2023-02-01", "2023-07-01", "continue"))
    assert list(mix) == list(RECOMMENDATIONS)  # every category has its row, in the form's order
    assert mix["terminate"] == (2, pytest.approx(100 * 2 / 3))
    assert mix["continue"] == (1, pytest.approx(100 / 3))
    assert mix["vary"] == (0, 0) and mix["permanence_away"] == (0, 0)
    assert sum(count for count, _ in mix.values()) == 3


def test_with_no_review_done_every_category_is_0_with_no_share():
    mix = mix_of(reviewed("2024-01-01", None, None))
    assert mix == {code: (0, None) for code in RECOMMENDATIONS}
