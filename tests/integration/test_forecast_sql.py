"""The breach forecast of a whole caseload (workflows/measures/forecast_reads.py: the pace from the
stages the database counts, only the episodes still open read) gives exactly the forecast
of every episode (load_episodes + forecast.forecast), item for item, on SQLite and
PostgreSQL: team-scoped and service-wide, today and at past dates."""
import itertools
from datetime import date

from sqlalchemy import select

from engine.models import ProcessModel
from workflows.measures import aim_store, forecast, forecast_reads as forecast_sql
from workflows.measures.data import load_episodes
from workflows.vocabulary import CSO_HOME, CSO_ORDER, JOURNEY_ORDER, PERMANENCE

from .test_measure_sql import TODAY, caseload  # noqa: F401 - the fixture
from .test_measures_db import _seed

D = date.fromisoformat
ORDER = {PERMANENCE: JOURNEY_ORDER, CSO_HOME: CSO_ORDER}
# Before, on and after the day the episode of "ENDED" ended (1 March 2025), and later ones.
DATES = (TODAY, D("2025-06-30"), D("2025-03-01"), D("2025-02-28"), D("2024-09-15"))


def _ended_later(session):
    """An episode that ended on 1 March 2025 with its recommendation still to come: open,
    and forecast, when measured before then."""
    model = session.scalars(select(ProcessModel)
                            .where(ProcessModel.process_id == PERMANENCE)).first()
    v = model.version
    _seed(session, model, "ENDED", "north", D("2014-05-05"), [
        ("LA_START", D("2024-10-01"), {}, v), ("PLANNING_MTG", D("2024-10-04"), {}, v)],
        status="completed")


def test_forecast_from_counts_equals_forecast_from_episodes(caseload):  # noqa: F811
    with caseload.transaction() as session:
        _ended_later(session)
    seen, ended_later = set(), set()
    with caseload.transaction() as session:
        settings = aim_store.load(session)
        for on, teams in itertools.product(DATES, (None, ("north",))):
            episodes = {p: load_episodes(session, p, codes=ORDER[p], teams=teams) for p in ORDER}
            for process_id, order in ORDER.items():
                fast = forecast_sql.pace(session, process_id, order, on, teams)
                assert fast == forecast.pace(episodes[process_id], order, on), (on, teams)
                seen |= {s.recent for s in fast.values()}
            for clocks in (tuple(forecast.CLOCKS), ("adm",)):
                fast = forecast_sql.forecast_report(session, settings, on, teams, clocks)
                assert fast == forecast.forecast(episodes, settings, on, clocks), (on, teams)
                seen |= {f.status for f in fast} | {f.clock for f in fast}
                ended_later |= {on for f in fast if f.child.reference == "ENDED"}
    assert {True, False} <= seen  # recent paces and paces of every completed stage
    assert {forecast.MISSED, forecast.WILL_MISS, forecast.ON_TRACK} <= seen
    assert set(forecast.CLOCKS) <= seen
    assert ended_later == {D("2025-02-28")}  # forecast before it ended, not from that day
