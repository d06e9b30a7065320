"""How an aim's children, time allowed and target are read and described.

The population's description heads the aims' CSV columns and pages: an under-12 aim
described as "all children" would publish a figure for a population it is not about. The
checks on thresholds, targets and wording are what stop a typing slip reaching every chart.
"""
from datetime import date

import pytest

from workflows.measures.aims import (PRESETS, AimSettings, Population, SettingError, Threshold,
                                     age_on, check_dates, check_target, check_wording, default_for)


@pytest.mark.parametrize("population, described", [
    (Population(), "all children"),
    (Population(max_age=12), "under 12"),
    (Population(min_age=5), "aged 5 or over"),
    (Population(min_age=5, max_age=12), "aged 5 to 11"),
    (Population(teams=("north", "south")), "teams north, south"),
    (Population(max_age=12, teams=("north",)), "under 12; teams north"),
])
def test_a_population_is_described_as_who_it_holds(population, described):
    assert population.describe() == described


def test_the_midlothian_preset_is_about_under_12s():
    aim = PRESETS["midlothian"][2]
    assert aim.population.describe() == "under 12"
    assert aim.threshold.describe() == "7.5 months"


@pytest.mark.parametrize("born, inside", [
    (date(2008, 3, 2), True),    # 11 the day before their 12th birthday
    (date(2008, 3, 1), False),   # 12 on the day
])
def test_under_12_means_not_yet_12_on_the_day_the_clock_started(born, inside):
    reason = Population(max_age=12).reason_excluded("north", born, date(2020, 3, 1))
    assert reason == (None if inside else "aged 12 or over")


def test_reasons_a_child_is_left_out():
    band = Population(min_age=5, max_age=12, teams=("north",))
    on = date(2020, 1, 1)
    assert band.reason_excluded("south", date(2012, 1, 1), on) == "team"
    assert band.reason_excluded("north", None, on) == "no date of birth"
    assert band.reason_excluded("north", date(2015, 1, 2), on) == "under 5"
    assert band.reason_excluded("north", date(2015, 1, 1), on) is None
    assert Population().reason_excluded("north", None, on) is None
    assert Population(teams=("north",)).reason_excluded("north", None, on) is None


def test_age_is_counted_in_whole_years_to_the_birthday():
    assert age_on(date(2010, 6, 15), date(2020, 6, 14)) == 9
    assert age_on(date(2010, 6, 15), date(2020, 6, 15)) == 10
    assert age_on(date(2010, 6, 15), date(2020, 7, 1)) == 10


def test_age_limits_are_checked():
    with pytest.raises(SettingError, match="^max age must be between 0 and 25 years$"):
        Population(max_age=26)
    with pytest.raises(SettingError, match="^min age must be between 0 and 25 years$"):
        Population(min_age=-1)
    assert Population(min_age=0, max_age=25).describe() == "aged 0 to 24"
    with pytest.raises(SettingError, match="lower age limit must be below the upper one"):
        Population(min_age=12, max_age=12)


def test_a_population_round_trips_through_its_stored_form():
    band = Population(min_age=5, max_age=12, teams=("north",))
    assert band.to_json() == {"max_age": 12, "min_age": 5, "teams": ["north"]}
    assert Population.from_json(band.to_json()) == band
    assert Population().to_json() == {} and Population.from_json(None) == Population()


@pytest.mark.parametrize("text, described, from_day, to_day", [
    ("30w", "30 weeks", date(2020, 1, 1), date(2020, 7, 29)),
    ("18m", "18 months", date(2020, 1, 31), date(2021, 7, 31)),
    ("1m", "1 month", date(2021, 1, 31), date(2021, 2, 28)),
    ("7.5m", "7.5 months", date(2020, 1, 1), date(2020, 8, 16)),  # 7 months and 15.2 days
    ("1.5y", "1.5 years", date(2020, 1, 1), date(2021, 7, 1)),
    ("7m15d", "7 months 15 days", date(2020, 1, 1), date(2020, 8, 16)),
    ("1d", "1 day", date(2020, 1, 1), date(2020, 1, 2)),
])
def test_a_threshold_is_described_and_added_as_written(text, described, from_day, to_day):
    threshold = Threshold.parse(f"  {text.upper()} ")
    assert threshold.text == text and str(threshold) == text
    assert threshold.describe() == described
    assert threshold.add_to(from_day) == to_day


@pytest.mark.parametrize("text, message", [
    ("", "the threshold is empty"),
    ("30", "cannot read the threshold '30'"),
    ("0w", "must be longer than zero"),
    ("11y", "must be 10 years or shorter"),
    ("1d" * 11, "must be 20 characters or fewer"),
])
def test_a_threshold_a_council_could_not_mean_is_refused(text, message):
    with pytest.raises(SettingError, match=message):
        Threshold.for_setting(text)


def test_a_threshold_of_exactly_ten_years_is_allowed():
    assert Threshold.for_setting("10y").describe() == "10 years"
    assert Threshold.for_setting("1d" * 10).text == "1d" * 10


def test_targets_dates_and_wording_are_checked():
    check_target(100)
    check_target(0.5)
    for bad in (0, 100.5, -1):
        with pytest.raises(SettingError, match="above 0 and at most 100"):
            check_target(bad)
    check_dates(date(2020, 1, 1), date(2020, 1, 1))
    with pytest.raises(SettingError, match="end date is before its start date"):
        check_dates(date(2020, 1, 2), date(2020, 1, 1))
    check_wording("x" * 2000)
    with pytest.raises(SettingError, match="2000 characters or fewer"):
        check_wording("x" * 2001)
    with pytest.raises(SettingError, match="write the aim's wording"):
        check_wording("  ")


def test_an_aim_setting_refuses_an_unknown_aim_and_blank_wording():
    aim = default_for(2, "fife")
    assert aim.council == "fife" and aim.title == "Aim 2: permanence recommendation"
    with pytest.raises(SettingError, match="there is no Aim 4"):
        AimSettings(aim=4, wording="x", target_pct=50, threshold=Threshold.parse("30w"))
    with pytest.raises(SettingError, match="write the aim's wording"):
        aim.with_changes(wording=" ")
    assert aim.with_changes(target_pct=90).target_pct == 90


@pytest.mark.parametrize("text, days_after_1_jan_2020", [
    ("1w1d", 8), ("1d1w", 8), ("2.5d", 3),  # half a day rounds up
    ("1d1.5m", 31 + 16),  # a month, then 1 + 15.22 days rounded
])
def test_every_term_of_a_threshold_adds_up(text, days_after_1_jan_2020):
    assert (Threshold.parse(text).add_to(date(2020, 1, 1)) - date(2020, 1, 1)).days == days_after_1_jan_2020


def test_each_setting_refusal_says_what_to_fix():
    cases = [
        (lambda: check_target(0), "the target must be a percentage above 0 and at most 100"),
        (lambda: check_dates(date(2020, 1, 2), date(2020, 1, 1)), "the aim's end date is before its start date"),
        (lambda: check_wording(None), "write the aim's wording"),
        (lambda: default_for(1).with_changes(wording=None), "write the aim's wording"),
        (lambda: Population(min_age=12, max_age=5), "the lower age limit must be below the upper one"),
    ]
    for refused, message in cases:
        with pytest.raises(SettingError) as raised:
            refused()
        assert str(raised.value) == message


@pytest.mark.parametrize("text, message", [
    ("", "the threshold is empty; write e.g. 30w, 18m or 7.5m"),
    ("3 fortnights", "cannot read the threshold '3 fortnights'; write a number and a unit "
                     "(d, w, m or y), e.g. 30w, 18m, 7.5m or 7m15d"),
    ("0d0w", "the threshold must be longer than zero"),
])
def test_an_unreadable_threshold_says_how_to_write_one(text, message):
    with pytest.raises(SettingError) as refused:
        Threshold.parse(text)
    assert str(refused.value) == message
