"""The aims of a whole caseload, read by aggregate queries.

``measure_data.load_episodes`` rebuilds every episode from all its milestone rows: right
for one child or a team, but at national scale (100,000 children) each aim then spends
seconds building objects for rows its rules never read. Here the database does the
reading the rules would do: one row per clock (Aims 1 and 2: first anchor date, first
date the step was done and its detail) or per recommendation (Aim 3), with the child's
team, date of birth and the episode's end. The rules themselves stay the pure functions of
``measures`` (``aim1_of``, ``aim2_of``, ``aim3_of``), so both paths give the same figures
and entries, drill-down lists included (tests/integration/test_measure_sql.py compares them
on generated caseloads, on SQLite and PostgreSQL).

"First" is the earliest date on or before the measurement date (the occurrence number
breaking ties), as ``measure_data.Episode.first`` has it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Date, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from engine.models import Milestone, ProcessInstance, Subject

from workflows.measures import aim_statuses, driver_rows, aim_results as measures
from workflows.measures.aims import AimSettings
from workflows.measures.data import Child
# The indexes the queries read (migrations 0006, 0011, 0012), declared on the domain side.
from workflows.measures.indexes import CLOCK_INDEXES, END_BY_ID_INDEX
from workflows.measures.pdsa import AIM_PROCESS
from workflows.vocabulary import PERMANENCE


def aim_result(session: Session, settings: AimSettings, measured_on: date,
               teams: Sequence[str] | None = None) -> aim_statuses.AimResult:
    """One aim for the children of ``teams`` (None: every team), as ``measures.measure``
    computes it from ``load_episodes``."""
    return aim_results(session, {settings.aim: settings}, measured_on, teams,
                       (settings.aim,))[settings.aim]


def aim_results(session: Session, settings: dict[int, AimSettings], measured_on: date,
                teams: Sequence[str] | None = None,
                aims: Iterable[int] = (1, 2, 3), *,
                listed: bool = True) -> dict[int, aim_statuses.AimResult]:
    """The children are read once for every aim (one ``Child`` per child, shared), and on
    PostgreSQL the aims' queries run at once (``_Reader.read``).

    ``listed=False``: the figures without the children behind them (``measures._Counting``),
    as the dashboard and the aims API show them; the children are then not read at all
    unless an aim's population asks for their team or age."""
    aims = tuple(aims)
    with driver_rows.collector_paused():
        reader = _Reader(session, teams, named=listed or any(
            measures.reads_children(settings[aim]) for aim in aims))
        queries = {}
        for aim in aims:
            if aim == 3:
                queries[aim] = _recommendations_query(measured_on, teams, reader)
            else:
                # Aim 2 never counts a child accommodated before its start date: not read.
                since = settings[aim].start_date if aim == 2 else None
                queries[aim] = _clocks_query(aim, measured_on, teams, since, reader,
                                             measures.left_out_placement(settings[aim]))
        rows = reader.read(queries)
        found = {}
        for aim in queries:
            items = (_recommendations_of if aim == 3 else _clocks_of)(rows[aim], reader)
            found[aim] = measures.RULES[aim](items, settings[aim], measured_on, listed)
        return found


class _Reader:
    """The aims' rows as the database driver returns them (``driver_rows``), and the
    children they name, read once for every aim."""

    def __init__(self, session: Session, teams: Sequence[str] | None, named: bool = True):
        self.connection = session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.teams = teams
        self.day = driver_rows.Days().__getitem__
        self.named = named  # False: children are not read, and each record's is None
        self.children: dict[int, Child] = {} if named else _Unnamed()

    def read(self, queries: dict) -> dict:
        """Each query's rows, and the children. On PostgreSQL, when this transaction has
        written nothing and the pool has connections to spare, each query runs on a
        connection of its own that shares this transaction's snapshot (so all see one
        moment, as one transaction would): the server then works on the aims side by side
        instead of one after another while this process waits (the aims together at
        100,000 children: 0.84-0.88 s -> 0.68 s). Otherwise, one after another on this
        transaction's connection."""
        query = select(*_CHILD_COLUMNS)
        if self.teams is not None:
            query = query.where(Subject.team.in_(list(self.teams)))
        everything = {"children": query, **queries} if self.named else dict(queries)
        found = None if self.sqlite else driver_rows.fetch_alongside(self.connection, everything,
                                                                     _POSTGRESQL_READING)
        if found is None:
            if not self.sqlite:  # the window functions' sorts would otherwise spill to disk
                self.connection.exec_driver_sql(_POSTGRESQL_READING)
            found = {key: driver_rows.fetch(self.connection, q) for key, q in everything.items()}
        if self.named:
            day = self.day
            self.children = {row[0]: _new(Child, (*row[:4], day(row[4])))
                             for row in found.pop("children")}
        return found

    def ended(self):
        """The day an instance ended (None while it runs), as the database computes it."""
        pi = ProcessInstance
        end_day = func.date(pi.completed_at) if self.sqlite else cast(pi.completed_at, Date)
        return case((pi.status != "running", end_day), else_=None)


_new = tuple.__new__  # a named tuple's own __new__ is a Python-level call: 100,000s here


class _Unnamed(dict):
    """The children of a reading that names none: every child is None."""

    def __missing__(self, _subject_id):
        return None
# The window functions' sorts would otherwise spill to disk.
_POSTGRESQL_READING = "SET LOCAL work_mem = '64MB'"
_CHILD_COLUMNS = (Subject.id, Subject.reference, Subject.display_name, Subject.team,
                  Subject.date_of_birth)


def _reached(process_id: str, code: str, on: date):
    return _reached_by(Milestone, process_id, code, on)


def _reached_by(m, process_id: str, code: str, on: date):
    return and_(m.process_id == _inline(process_id), m.code == _inline(code),
                m.actual_date <= on)


def _inline(name: str):
    return literal(name, literal_execute=True)


def _own_index(query, m, process_id: str, code: str):
    """``query`` reading ``m`` through the milestone's own index (``CLOCK_INDEXES``)."""
    name = CLOCK_INDEXES.get((process_id, code))
    return query if name is None else query.with_hint(m, f"INDEXED BY {name}", "sqlite")


def _first_date(process_id: str, code: str, on: date):
    """instance_id -> earliest date of ``code`` on or before ``on``."""
    m = Milestone
    return _own_index(select(m.instance_id.label("instance_id"),
                             func.min(m.actual_date).label("on"))
                      .where(_reached(process_id, code, on)).group_by(m.instance_id),
                      m, process_id, code)


def _detail(key: str):
    return Milestone.data[key].as_string()


def _in_teams(query, teams: Sequence[str] | None):
    if teams is None:
        return query
    return query.where(ProcessInstance.subject_id.in_(
        select(Subject.id).where(Subject.team.in_(list(teams)))))


def _clocks_query(aim: int, measured_on: date, teams: Sequence[str] | None,
                  anchored_from: date | None, reader: _Reader, left_out: str | None = None):
    """Aim 1 or 2's clocks (``measures.clocks`` over ``load_episodes``), one query;
    ``left_out``: a placement whose clocks are not read (``measures.left_out_placement``)."""
    process_id = AIM_PROCESS[aim]
    anchor_code, done_code, key = measures.AIM_CLOCKS[aim]
    m = Milestone
    anchor = _first_date(process_id, anchor_code, measured_on)
    if left_out is not None:
        placement = _detail("placement")
        anchor = anchor.where(or_(placement.is_(None), placement != left_out))
    if anchored_from is not None:
        anchor = anchor.having(func.min(m.actual_date) >= anchored_from)
    anchor = anchor.subquery()
    first_done = _first_done_by_seek if reader.sqlite else _first_done_by_window
    done, found, done_on, detail = first_done(process_id, done_code, key, measured_on, anchor)
    query = (select(anchor.c.instance_id, anchor.c.on, done_on, detail, reader.ended(),
                    ProcessInstance.subject_id)
             .join(ProcessInstance, and_(ProcessInstance.process_id == process_id,
                                         ProcessInstance.id == anchor.c.instance_id))
             .outerjoin(done, found))
    return _in_teams(_instances_from_index(query), teams)


def _clocks_of(rows: list[tuple], reader: _Reader) -> list[measures.Clock]:
    children, day, clock = reader.children, reader.day, measures.Clock
    return [_new(clock, (children[subject_id], instance_id, day(anchor_on), day(done_on),
                         None if detail is None or detail == "" else str(detail), day(ended)))
            for instance_id, anchor_on, done_on, detail, ended, subject_id in rows]


# Two ways to the first time a step was done (earliest date, occurrence breaking ties) and
# the detail recorded with it, each as (what to join, on what, its date, its detail). Each
# database is given the one it runs faster (measured at 100,000 children: the other costs
# SQLite a tenth more of the aims, PostgreSQL twice Aim 2): SQLite seeks each clock's first
# row through the index and reads it by id; PostgreSQL numbers every such milestone with a
# window function and keeps the first.
def _first_done_by_seek(process_id: str, code: str, key: str, on: date, anchor):
    step, done = aliased(Milestone), aliased(Milestone)
    first = (_own_index(select(step.id), step, process_id, code)
             .where(_reached_by(step, process_id, code, on),
                    step.instance_id == anchor.c.instance_id)
             .order_by(step.actual_date, step.occurrence).limit(1)
             .correlate(anchor).scalar_subquery())
    return done, done.id == first, done.actual_date, done.data[key].as_string()


def _first_done_by_window(process_id: str, code: str, key: str, on: date, anchor):
    m = Milestone
    ranked = (select(m.instance_id, m.actual_date, _detail(key).label("detail"),
                     func.row_number().over(partition_by=m.instance_id,
                                            order_by=(m.actual_date, m.occurrence)).label("rank"))
              .where(_reached(process_id, code, on)).subquery())
    done = select(ranked.c.instance_id, ranked.c.actual_date, ranked.c.detail) \
        .where(ranked.c.rank == 1).subquery()
    return done, done.c.instance_id == anchor.c.instance_id, done.c.actual_date, done.c.detail


# The date of the recommendation after ``m`` (the span in which an ADM answers ``m``), as
# each database runs it faster: SQLite seeks it per recommendation through the index (with
# the seek for the accommodation date below, a fifth cheaper than a window over every
# recommendation and a join to every child's accommodation), PostgreSQL uses the window.
def _next_by_seek(m, on: date):
    following = aliased(Milestone)
    return (_own_index(select(following.actual_date), following, PERMANENCE,
                       "PERM_RECOMMENDATION")
            .where(_reached_by(following, PERMANENCE, "PERM_RECOMMENDATION", on),
                   following.instance_id == m.instance_id,
                   or_(following.actual_date > m.actual_date,
                       and_(following.actual_date == m.actual_date,
                            following.occurrence > m.occurrence)))
            .order_by(following.actual_date, following.occurrence).limit(1)
            .correlate(m).scalar_subquery())


def _next_by_window(m, on: date):
    return func.lead(m.actual_date).over(partition_by=m.instance_id,
                                         order_by=(m.actual_date, m.occurrence))


def _instances_from_index(query):
    return query.with_hint(ProcessInstance, f"INDEXED BY {END_BY_ID_INDEX.name}", "sqlite")


def _recommendations_query(measured_on: date, teams: Sequence[str] | None, reader: _Reader):
    """Aim 3's recommendations (``measures.recommendations`` over ``load_episodes``), one
    query. Recommendations on a route at or near home are not read: Aim 3 skips them."""
    m = Milestone
    next_on = (_next_by_seek if reader.sqlite else _next_by_window)(m, measured_on)
    made = (_own_index(select(m.instance_id, m.actual_date.label("made_on"), m.occurrence,
                              _detail("route").label("route"), next_on.label("next_on")),
                       m, PERMANENCE, "PERM_RECOMMENDATION")
            .where(_reached(PERMANENCE, "PERM_RECOMMENDATION", measured_on))).subquery()

    def between(later, *codes):
        code = later.code == _inline(codes[0]) if len(codes) == 1 else later.code.in_(codes)
        return and_(later.instance_id == made.c.instance_id,
                    later.process_id == _inline(PERMANENCE), code,
                    later.actual_date >= made.c.made_on, later.actual_date <= measured_on,
                    or_(made.c.next_on.is_(None), later.actual_date < made.c.next_on))

    unrecorded = or_(made.c.route.is_(None), made.c.route == "")
    adm_m, later = aliased(Milestone), aliased(Milestone)
    adm = (_own_index(select(func.min(adm_m.actual_date)), adm_m, PERMANENCE, "ADM")
           .where(between(adm_m, "ADM")).scalar_subquery())
    evidence = case((unrecorded, exists().where(between(later, *measures.AWAY_EVIDENCE))),
                    else_=literal(False))
    query = (select(made.c.instance_id, made.c.made_on, made.c.route, evidence, adm)
             .join(ProcessInstance, and_(ProcessInstance.process_id == PERMANENCE,
                                         ProcessInstance.id == made.c.instance_id))
             .where(or_(unrecorded, made.c.route.in_(sorted(measures.AWAY_ROUTES))))
             .order_by(made.c.instance_id, made.c.made_on, made.c.occurrence))
    # The accommodation date: SQLite seeks it per recommendation; PostgreSQL joins every
    # child's first accommodation (each the faster there).
    if reader.sqlite:
        start = aliased(Milestone)
        accommodated = (_own_index(select(func.min(start.actual_date)), start, PERMANENCE,
                                   "LA_START")
                        .where(_reached_by(start, PERMANENCE, "LA_START", measured_on),
                               start.instance_id == made.c.instance_id)
                        .correlate(made).scalar_subquery())
    else:
        firsts = _first_date(PERMANENCE, "LA_START", measured_on).subquery()
        query = query.outerjoin(firsts, firsts.c.instance_id == made.c.instance_id)
        accommodated = firsts.c.on
    query = query.add_columns(accommodated, reader.ended(), ProcessInstance.subject_id)
    return _in_teams(_instances_from_index(query), teams)


def _recommendations_of(rows: list[tuple], reader: _Reader) -> list[measures.Recommendation]:
    children, day, Recommendation = reader.children, reader.day, measures.Recommendation
    return [_new(Recommendation, (children[subject_id], instance_id, day(made_on),
                                  None if route in (None, "") else str(route), bool(evidence),
                                  day(adm_on), day(accommodated_on), day(ended)))
            for instance_id, made_on, route, evidence, adm_on, accommodated_on, ended, subject_id
            in rows]
