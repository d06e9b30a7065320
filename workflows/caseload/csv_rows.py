"""The caseload CSV: columns, parsing and row validation, as pure functions.

One row per child (docs/caseload-import.md). Nothing here touches the database: the
teams and user names a row may name are passed in, and each row becomes either a
``ChildRow`` (``caseload_steps`` turns it into the steps that place the child) or
``RowError``s naming the spreadsheet row, the column and the reason.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from engine.csv_cells import uncell
from engine.plain_text import single_line_problem

from workflows.caseload.outcomes import OUTCOME_COLUMNS, read_outcome
from workflows.vocabulary import CSO_HOME, PERMANENCE

ACCOMMODATED, CSO_AT_HOME = "accommodated", "cso_home"
STATUS_PROCESS = {ACCOMMODATED: PERMANENCE, CSO_AT_HOME: CSO_HOME}
ROUTES = ("home", "kinship", "permanence_order", "adoption", "not_decided")
ORDERS = ("permanence_order", "permanence_order_with_authority_to_adopt", "adoption_order")
NOT_DECIDED = "not_decided"

# (milestone column, user task that records it) in journey order; LA_START starts the process.
COMMON_STEPS = (("LA_START", None), ("PLANNING_MTG", "planning_meeting"),
                ("INITIAL_LAR", "initial_lar"), ("INTERIM_LAR", "interim_lar"),
                ("LEGAL_REFERRAL", "legal_referral"), ("LEGAL_OPINION", "legal_opinion"),
                ("PERM_RECOMMENDATION", "substantive_lar"))
_COURT = (("CAPR", "capr"), ("PANEL", "panel"), ("ADM", "adm_decision"),
          ("APPLICATION_LODGED", "lodge_application"), ("ORDER_GRANTED", "court_order"))
ROUTE_STEPS = {
    "home": (("RETURN_HOME", "return_home_plan"), ("ORDER_GRANTED", "return_home_review")),
    "kinship": (("APPLICATION_LODGED", "kinship_application"), ("ORDER_GRANTED", "kinship_order")),
    "permanence_order": _COURT, "adoption": _COURT,
}
JOURNEY_DATES = ("LA_START", "PLANNING_MTG", "INITIAL_LAR", "INTERIM_LAR", "LEGAL_REFERRAL",
                 "LEGAL_OPINION", "PERM_RECOMMENDATION", "RETURN_HOME", "CAPR", "PANEL", "ADM",
                 "APPLICATION_LODGED", "ORDER_GRANTED")
CSO_DATES = ("CSO_START", "AIM1_REVIEW", "CSO_HEARING")
# What the last Aim 1 review recommended and the Hearing decided: workflows/caseload/outcomes.py

COLUMNS = ("reference", "name", "date_of_birth", "team", "allocated_worker", "legal_status",
           *JOURNEY_DATES[:6], "last_undecided_lar", "PERM_RECOMMENDATION", "route", "order_sought",
           *JOURNEY_DATES[7:], *CSO_DATES, "next_review_date", "aim1_recommendation",
           "hearing_decision")
REQUIRED_COLUMNS = ("reference", "name", "team", "legal_status")
DATE_COLUMNS = frozenset({"date_of_birth", "last_undecided_lar", "next_review_date",
                          *JOURNEY_DATES, *CSO_DATES})
# Columns a rejects file adds; reading one back ignores them, so a fixed rejects file imports.
REJECT_COLUMNS = ("source_row", "import_errors")
ALIASES = {"dob": "date_of_birth", "worker": "allocated_worker", "status": "legal_status",
           "route_decided": "route", "cso_start_date": "CSO_START",
           "last_aim1_review": "AIM1_REVIEW", "last_aim1_review_date": "AIM1_REVIEW",
           "next_review": "next_review_date", "child_reference": "reference",
           "recommendation": "aim1_recommendation", "hearing_outcome": "hearing_decision"}
MAX_ROWS = 200_000
EXTRA = "_extra_cells"


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


_BY_KEY = {_key(c): c for c in COLUMNS} | {_key(a): c for a, c in ALIASES.items()}
_KNOWN = frozenset(COLUMNS) | {EXTRA}


def canonical(raw: Mapping) -> dict:
    """A row built in memory with any spelling of the column names the header accepts."""
    return {_BY_KEY.get(_key(str(k)), k): v for k, v in raw.items() if k not in REJECT_COLUMNS}


@dataclass(frozen=True)
class RowError:
    row: int            # spreadsheet row: the header is row 1
    column: str
    reason: str
    reference: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}" + (f" ({self.reference})" if self.reference else "")
        return f"{where}, column {self.column}: {self.reason}" if self.column \
            else f"{where}: {self.reason}"


@dataclass
class ChildRow:
    row: int
    reference: str
    name: str
    team: str
    legal_status: str
    date_of_birth: date | None = None
    worker: str | None = None
    dates: dict[str, date] = field(default_factory=dict)
    route: str | None = None
    order_sought: str | None = None
    last_undecided_lar: date | None = None
    next_review_date: date | None = None
    cells: dict[str, str] = field(default_factory=dict)
    aim1_recommendation: str | None = None
    hearing_decision: str | None = None

    @property
    def process_id(self) -> str:
        return STATUS_PROCESS[self.legal_status]

    @property
    def start(self) -> date:
        return self.dates["LA_START" if self.legal_status == ACCOMMODATED else "CSO_START"]

    def digest(self) -> str:
        """Same child, same facts → same digest, however the cells were written."""
        canon = {"reference": self.reference, "name": self.name, "team": self.team,
                 "status": self.legal_status, "dob": self.date_of_birth, "worker": self.worker,
                 "dates": dict(sorted(self.dates.items())), "route": self.route,
                 "order": self.order_sought, "undecided": self.last_undecided_lar,
                 "next": self.next_review_date}
        # only when given, so a file without the columns keeps the digests it had
        canon |= {k: v for k, v in (("recommendation", self.aim1_recommendation),
                                    ("hearing", self.hearing_decision)) if v}
        return hashlib.sha256(json.dumps(canon, default=str, sort_keys=True).encode()).hexdigest()


# -- reading ---------------------------------------------------------------------------
class FileError(ValueError):
    """The file as a whole cannot be read (encoding, header); nothing was imported."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lines(reader):
    """The reader's rows; FileError for what the csv module cannot read (a cell over its
    field limit was a 500 on the upload page)."""
    try:
        yield from reader
    except csv.Error as exc:
        problem = (f"a cell is longer than {csv.field_size_limit():,} characters"
                   if "field limit" in str(exc) else str(exc))
        raise FileError(f"line {reader.line_num} cannot be read: {problem}") from None


def read_csv(data: bytes) -> list[dict[str, str]]:
    """Rows as {canonical column: cell}; raises FileError for an unreadable file or header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(f"the file is not UTF-8 text (byte {exc.start}); in Excel use "
                        "'Save as: CSV UTF-8 (comma delimited)'") from None
    reader = _lines(csv.reader(io.StringIO(text, newline="")))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise FileError("the file is empty; the first row must name the columns "
                        "(download the template)")
    columns, problems = [], []
    for number, name in enumerate(header, start=1):
        key = _key(name)
        column = _BY_KEY.get(key) or (key if key in REJECT_COLUMNS else None)
        if column is None:
            problems.append(f"column {number} {name.strip()!r} is not a caseload column"
                            if name.strip() else f"column {number} has no name")
        elif column in columns:
            problems.append(f"column {column} appears twice")
        columns.append(column)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(f"required column(s) missing: {', '.join(missing)}")
    if problems:
        raise FileError("row 1 (the header): " + "; ".join(problems)
                        + f". Known columns: {', '.join(COLUMNS)}")
    rows = []
    for cells in reader:
        if len(rows) >= MAX_ROWS:
            raise FileError(f"the file has more than {MAX_ROWS} rows; split it")
        # uncell: a rejects file (caseload_import.rejects_csv) fixed and uploaded again
        row = {c: (uncell(cells[i]) if i < len(cells) else "") for i, c in enumerate(columns)
               if c not in REJECT_COLUMNS}
        if any(c.strip() for c in cells[len(columns):]):
            row[EXTRA] = "yes"  # reported by validate_row
        rows.append(row)
    return rows


def parse_date(value) -> date:
    """YYYY-MM-DD or DD/MM/YYYY (also with - or . between day, month and year)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    text = re.sub(r"[ T]00:00(:00)?$", "", text)  # spreadsheet date-times at midnight
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            year, month, day = map(int, text.split("-"))
            return date(year, month, day)
        match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None
    raise ValueError(f"{text!r} is not a date; write YYYY-MM-DD or DD/MM/YYYY")


# -- validation ------------------------------------------------------------------------
def cell(raw: Mapping, column: str) -> str:
    value = raw.get(column)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value).strip()


def _check_sequence(child: ChildRow, order, problem) -> None:
    """Every earlier step has a date, and no date is earlier than the step before it."""
    dates = child.dates
    reached = [c for c in order if c in dates]
    if not reached:
        return
    last = order.index(reached[-1])
    for column in order[:last]:
        if column not in dates and column not in child.cells:  # (a bad date is reported already)
            problem(column, f"blank, but a later step ({reached[-1]}) has a date: give the date "
                            "of every step the child has been through")
    previous = None
    for column in reached:
        if previous and dates[column] < dates[previous]:
            problem(column, f"{dates[column]} is before {previous} ({dates[previous]}); "
                            "milestones must be in journey order")
        previous = column


def validate_row(raw: Mapping, row: int, today: date, teams: Mapping[str, str],
                 workers: Mapping[str, str]) -> tuple[ChildRow | None, list[RowError]]:
    """teams: lower-case code or name → team code; workers: lower-case username → username."""
    errors: list[RowError] = []
    reference = cell(raw, "reference")

    def problem(column: str, reason: str) -> None:
        errors.append(RowError(row, column, reason, reference or None))

    if raw.get(EXTRA):
        problem("", "the row has more cells than the header has columns")
    for column in raw:
        if column not in _KNOWN:
            problem(column, "not a caseload column")
    cells = {c: cell(raw, c) for c in COLUMNS}
    if not reference:
        problem("reference", "required: the child's case reference")
    elif len(reference) > 80:
        problem("reference", "longer than 80 characters")
    elif single_line_problem(reference):
        problem("reference", single_line_problem(reference))
    name = cells["name"]
    if not name:
        problem("name", "required: the child's name")
    elif len(name) > 200:
        problem("name", "longer than 200 characters")
    elif single_line_problem(name):
        problem("name", single_line_problem(name))
    team = teams.get(cells["team"].lower()) if cells["team"] else None
    if not cells["team"]:
        problem("team", "required: the team's code")
    elif team is None:
        known = ", ".join(sorted(set(teams.values()))) or "none yet (create the teams first: pace team create)"
        problem("team", f"unknown team {cells['team']!r}; known: {known}")
    worker = None
    if cells["allocated_worker"]:
        worker = workers.get(cells["allocated_worker"].lower())
        if worker is None:
            problem("allocated_worker", f"unknown worker {cells['allocated_worker']!r}: give the "
                                        "user name of an active PACE Flow account")
    status = cells["legal_status"].lower().replace(" ", "_").replace("-", "_")
    status = {"cso_at_home": CSO_AT_HOME, "cso": CSO_AT_HOME}.get(status, status)
    if status not in STATUS_PROCESS:
        problem("legal_status", f"{cells['legal_status']!r} is not a legal status; write "
                                "accommodated or cso_home" if status else
                "required: accommodated or cso_home")
    parsed: dict[str, date] = {}
    for column in (c for c in COLUMNS if c in DATE_COLUMNS):
        if cells[column]:
            try:
                parsed[column] = parse_date(cells[column])
            except ValueError as exc:
                problem(column, str(exc))
                continue
            if column != "next_review_date" and parsed[column] > today:
                problem(column, f"{parsed[column]} is in the future (today is {today}); "
                                "give only dates already reached")
    route = cells["route"].lower().replace(" ", "_") or None
    order = cells["order_sought"].lower().replace(" ", "_") or None
    if route and route not in ROUTES:
        problem("route", f"{cells['route']!r} is not a route; write one of {', '.join(ROUTES)}")
        route = None
    if order and order not in ORDERS:
        problem("order_sought", f"{cells['order_sought']!r} is not an order; write one of "
                                f"{', '.join(ORDERS)}")
        order = None
    outcomes = {}
    for column in OUTCOME_COLUMNS:
        outcomes[column], reason = read_outcome(column, cells.get(column, ""))
        if reason:
            problem(column, reason)
    dates = {c: d for c, d in parsed.items() if c in JOURNEY_DATES or c in CSO_DATES}
    child = ChildRow(row, reference, name, team or "", status, parsed.get("date_of_birth"), worker,
                     dates, route, order, parsed.get("last_undecided_lar"),
                     parsed.get("next_review_date"), {k: v for k, v in cells.items() if v},
                     **outcomes)
    if status == ACCOMMODATED:
        _check_journey(child, problem)
    elif status == CSO_AT_HOME:
        _check_cso(child, problem)
    if child.date_of_birth and status in STATUS_PROCESS and child.dates.get(
            "LA_START" if status == ACCOMMODATED else "CSO_START", date.max) < child.date_of_birth:
        problem("date_of_birth", "after the start date; check both")
    return (None if errors else child), errors


def _check_journey(child: ChildRow, problem) -> None:
    dates, route = child.dates, child.route
    for column in CSO_DATES:
        if column in dates:
            problem(column, "a CSO-at-home date, but the legal status is accommodated")
    for column in ("aim1_recommendation", "hearing_decision"):
        if getattr(child, column):
            problem(column, "only for children on a CSO at home")
    if "LA_START" not in dates:
        if "LA_START" not in child.cells:
            problem("LA_START", "required for an accommodated child: the date they became looked "
                                "after and accommodated")
        return
    decided = route not in (None, NOT_DECIDED)
    if "PERM_RECOMMENDATION" in dates and not decided:
        problem("route", "required when PERM_RECOMMENDATION has a date: home, kinship, "
                         "permanence_order or adoption")
    if decided and "PERM_RECOMMENDATION" not in dates:
        problem("PERM_RECOMMENDATION", f"the route is {route}: give the date of the review that "
                                       "recommended it")
    if route == NOT_DECIDED and not child.last_undecided_lar:
        problem("last_undecided_lar", "route not_decided: give the date of the substantive "
                                      "review that did not decide")
    own = ROUTE_STEPS.get(route, ()) if decided else ()
    for column in JOURNEY_DATES[7:]:
        if column in dates and column not in dict(own):
            problem(column, f"this step does not belong to the route {route or '(none)'}"
                    if decided else "a step after the route decision, but no route is decided")
    order = [c for c, _ in COMMON_STEPS] + [c for c, _ in own]
    _check_sequence(child, order, problem)
    if child.last_undecided_lar:
        if decided:
            problem("last_undecided_lar", "only for a child whose route is not decided yet")
        elif "LEGAL_OPINION" not in dates:
            problem("LEGAL_OPINION", "blank, but last_undecided_lar has a date: the substantive "
                                     "review follows the legal advice")
        elif child.last_undecided_lar < dates["LEGAL_OPINION"]:
            problem("last_undecided_lar", "before LEGAL_OPINION; milestones must be in "
                                          "journey order")
        if not child.next_review_date:
            problem("next_review_date", "required with last_undecided_lar: the review it booked")
    if order_needed(child) and not child.order_sought:
        problem("order_sought", "required for the adoption route once the CAPR is written: "
                                "adoption_order or permanence_order_with_authority_to_adopt")
    if child.order_sought and route not in ("permanence_order", "adoption"):
        problem("order_sought", "only for the permanence_order and adoption routes")
    booked = child.next_review_date
    if booked:
        anchor = child.last_undecided_lar or dates.get("INTERIM_LAR")
        if decided:
            problem("next_review_date", "only for a child whose route is not decided yet "
                                        "(the booked substantive looked-after review)")
        elif anchor is None:
            problem("next_review_date", "a substantive review can be booked once the interim "
                                        "review is held: give INTERIM_LAR")
        elif booked < anchor:
            problem("next_review_date", f"before the review that booked it ({anchor})")


def order_needed(child: ChildRow) -> bool:
    return child.route == "adoption" and "CAPR" in child.dates


def _check_cso(child: ChildRow, problem) -> None:
    dates = child.dates
    for column in JOURNEY_DATES:
        if column in dates:
            problem(column, "an accommodated-journey date, but the legal status is cso_home")
    for column, value in (("route", child.route), ("order_sought", child.order_sought),
                          ("last_undecided_lar", child.last_undecided_lar)):
        if value:
            problem(column, "only for accommodated children")
    if child.aim1_recommendation and "AIM1_REVIEW" not in dates:
        problem("aim1_recommendation", "the recommendation of the Aim 1 review: give its date "
                                       "in AIM1_REVIEW")
    if "AIM1_REVIEW" in dates and "CSO_HEARING" not in dates and not child.aim1_recommendation:
        problem("aim1_recommendation", "required while the Hearing on the last review is awaited "
                "(no CSO_HEARING): what is due next depends on it. Blank (not recorded) is for "
                "a review the Hearing has decided on")
    if child.hearing_decision and "CSO_HEARING" not in dates:
        problem("hearing_decision", "the Hearing's decision: give its date in CSO_HEARING")
    if child.hearing_decision == "terminated" and child.next_review_date:
        problem("next_review_date", "the Hearing terminated the order: no review follows")
    if "CSO_START" not in dates:
        if "CSO_START" not in child.cells:
            problem("CSO_START", "required for a child on a CSO at home: the date the order "
                                 "started")
        return
    _check_sequence(child, list(CSO_DATES), problem)
    booked = child.next_review_date
    if booked:
        # A "continue" recommendation may go to no Hearing (the deployed diagram decides)
        if "AIM1_REVIEW" in dates and "CSO_HEARING" not in dates \
                and child.aim1_recommendation != "continue":
            problem("next_review_date", "the next review is booked after the Hearing decides on "
                                        "the last one: give CSO_HEARING")
        elif booked < max(dates.values()):
            problem("next_review_date", f"before the last date in the row ({max(dates.values())})")


def validate(rows: Iterable[Mapping], today: date, teams: Mapping[str, str],
             workers: Mapping[str, str]) -> tuple[list[ChildRow], list[RowError]]:
    """Every row checked; duplicates reported on the later row. Blank rows are ignored."""
    children, errors, seen = [], [], {}
    for index, raw in enumerate(rows):
        number, raw = index + 2, canonical(raw)
        if not any(cell(raw, c) for c in raw):
            continue
        child, problems = validate_row(raw, number, today, teams, workers)
        reference = cell(raw, "reference")
        if reference in seen:
            problems.append(RowError(number, "reference", f"duplicate: {reference} is also on row "
                                                          f"{seen[reference]}", reference))
            child = None
        elif reference:
            seen[reference] = number
        errors.extend(problems)
        if child is not None:
            children.append(child)
    return children, errors
