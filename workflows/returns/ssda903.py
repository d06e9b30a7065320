"""SSDA903-style export of the English profile's milestones, with validation.

Three CSV files with the column names and date format (DD/MM/YYYY) of the Department for
Education's SSDA903 return (children looked after):

- ``header.csv``  CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB
- ``episodes.csv`` CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC,
  REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN
- ``reviews.csv`` CHILD, DOB, REVIEW, REVIEW_CODE

Episodes are derived from milestones, not kept as records: a period of care runs from
``LA_START`` to ``CEASED`` (one ``eng_looked_after`` instance); a new episode starts on each
placement move (``PLACEMENT_START``) and each court order that changes the legal status
(``LEGAL_STATUS``). Reviews are the ``REVIEW_FIRST`` and ``REVIEW`` occurrences with the
participation code recorded on them.

``validate`` checks the exported rows (or rows read back from CSV files) against the
published validation rules that are practical here, named by their DfE rule number, plus
the statutory review intervals of the Care Planning, Placement and Case Review (England)
Regulations 2010, reg. 33 (named ``PACE-R1``..``PACE-R4``: the DfE return has no rule for
them). Each finding names the table, row, child, field and rule.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import csv_cells
from engine.models import Milestone, Subject

from workflows.due_rules import ENGLAND, add_working_days
from workflows.profiles import ENG_CARE_PROCEEDINGS, ENG_LOOKED_AFTER

HEADER_COLUMNS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODE_COLUMNS = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                   "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
REVIEW_COLUMNS = ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"]
COLUMNS = {"header": HEADER_COLUMNS, "episodes": EPISODE_COLUMNS, "reviews": REVIEW_COLUMNS}
DATE_FORMAT = "%d/%m/%Y"

# Code lists (SSDA903 guidance; the 2025-26 collection for placement types).
SEX_CODES = {"M", "F", "U"}
ETHNIC_CODES = {"WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
                "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"}
RNE_CODES = {"S", "P", "L", "T", "U", "B"}
LS_CODES = {"C1", "C2", "D1", "E1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3"}
CIN_CODES = {f"N{i}" for i in range(1, 9)}
PLACE_CODES = {"A3", "A4", "A5", "A6", "K1", "K2", "K3", "P1", "P3", "R1", "R2", "R3", "R5", "S1",
               "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z11", "Z12",
               "Z13", "Z14"}
PROVIDER_CODES = {"PR0", "PR1", "PR2", "PR3", "PR4", "PR5"}
REC_CODES = {"E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E41", "E45", "E46", "E47", "E48",
             "E5", "E6", "E7", "E8", "E9", "E14", "E15", "E16", "E17", "X1"}
CEASED_CODES = REC_CODES - {"X1"}
PLACE_CHANGE_CODES = {"CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD",
                      "LAREQ", "PLACE", "CUSTOD", "OTHER"}
REVIEW_CODES = {f"PN{i}" for i in range(8)}
TEMPORARY = {"T0", "T1", "T2", "T3", "T4"}
UPN = re.compile(r"^((?![IOS])[A-Z](\d{12}|\d{11}[A-Z])|UN[1-5])$")

# Legal status at entry and court orders, as SSDA903 legal status codes.
LEGAL_STATUS_AT_ENTRY = {"s20": "V2", "s31": "C1"}
ORDER_LEGAL_STATUS = {"interim_care_order": "C1", "care_order": "C2", "placement_order": "E1"}


# -- building the export ------------------------------------------------------------------
@dataclass
class Export:
    start: date
    end: date
    header: list[dict] = field(default_factory=list)
    episodes: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)

    def tables(self) -> dict[str, list[dict]]:
        return {"header": self.header, "episodes": self.episodes, "reviews": self.reviews}

    def csv(self, table: str) -> str:
        return to_csv(self.tables()[table], COLUMNS[table])

    def write(self, folder: Path) -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for table in COLUMNS:
            path = folder / f"{table}.csv"
            path.write_text(self.csv(table), encoding="utf-8", newline="")
            paths.append(path)
        return paths


def fmt(day: date | None) -> str:
    return day.strftime(DATE_FORMAT) if day else ""


def parse(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).date()
    except ValueError:
        return None


def to_csv(rows: Iterable[Mapping], columns: list[str]) -> str:
    return csv_cells.to_text(([row.get(c) for c in columns] for row in rows), header=columns,
                             lineterminator="\r\n")


def read_csv(text: str) -> list[dict]:
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


@dataclass
class _Event:
    day: date
    kind: str                      # "placement" | "legal" | "ceased"
    data: dict


@dataclass
class _Period:
    instance_id: int
    start: date
    data: dict
    events: list[_Event] = field(default_factory=list)
    ceased: date | None = None
    reason: str | None = None


def _periods(rows: list[Milestone], legal_rows: list[Milestone]) -> list[_Period]:
    """One period of care per eng_looked_after instance, with its change events."""
    by_instance: dict[int, list[Milestone]] = defaultdict(list)
    for m in rows:
        by_instance[m.instance_id].append(m)
    periods = []
    for instance_id, ms in by_instance.items():
        start = next((m for m in ms if m.code == "LA_START" and m.actual_date), None)
        if start is None:
            continue
        period = _Period(instance_id, start.actual_date, dict(start.data or {}))
        placements = sorted((m for m in ms if m.code == "PLACEMENT_START" and m.actual_date),
                            key=lambda m: (m.actual_date, m.occurrence))
        for m in placements:
            period.events.append(_Event(m.actual_date, "placement", dict(m.data or {})))
        ceased = next((m for m in ms if m.code == "CEASED" and m.actual_date), None)
        if ceased is not None:
            period.ceased = ceased.actual_date
            period.reason = (ceased.data or {}).get("reason_ceased")
        periods.append(period)
    periods.sort(key=lambda p: (p.start, p.instance_id))
    for m in legal_rows:  # court orders belong to the period they fall in
        for period in periods:
            if period.start < m.actual_date and (period.ceased is None or m.actual_date < period.ceased):
                period.events.append(_Event(m.actual_date, "legal", dict(m.data or {})))
                break
    return periods


def _episodes(reference: str, period: _Period) -> list[dict]:
    """The SSDA903 episodes of one period of care."""
    first_placement = {}
    events = sorted(period.events, key=lambda e: (e.day, e.kind != "placement"))
    if events and events[0].kind == "placement" and events[0].day == period.start:
        first_placement = events.pop(0).data
    current = {"CHILD": reference, "DECOM": period.start, "RNE": "S",
               "LS": LEGAL_STATUS_AT_ENTRY.get(period.data.get("legal_status"), ""),
               "CIN": period.data.get("category_of_need", ""),
               "PLACE": first_placement.get("placement_type", ""),
               "PLACE_PROVIDER": first_placement.get("placement_provider", ""),
               "DEC": None, "REC": None, "REASON_PLACE_CHANGE": None,
               "HOME_POST": first_placement.get("home_postcode") or period.data.get("home_postcode", ""),
               "PL_POST": first_placement.get("placement_postcode", ""), "URN": ""}
    episodes = [current]
    by_day: dict[date, list[_Event]] = defaultdict(list)
    for event in events:
        if period.ceased is not None and event.day >= period.ceased:
            continue
        by_day[event.day].append(event)
    for day in sorted(by_day):
        changes = {}
        reason = None
        for event in by_day[day]:
            if event.kind == "placement":
                changes.update({"PLACE": event.data.get("placement_type", ""),
                                "PLACE_PROVIDER": event.data.get("placement_provider", ""),
                                "PL_POST": event.data.get("placement_postcode", "")})
                reason = event.data.get("reason_place_change")
            else:
                ls = ORDER_LEGAL_STATUS.get(event.data.get("order_made"))
                if ls:
                    changes["LS"] = ls
        changes = {k: v for k, v in changes.items() if current.get(k) != v}
        if not changes:
            continue
        placement_changed = any(k in changes for k in ("PLACE", "PLACE_PROVIDER", "PL_POST"))
        legal_changed = "LS" in changes
        if day == current["DECOM"]:  # same-day change: the episode starts with it
            current.update(changes)
            continue
        current["DEC"], current["REC"] = day, "X1"
        if placement_changed:
            current["REASON_PLACE_CHANGE"] = reason
        rne = "B" if placement_changed and legal_changed else ("P" if placement_changed else "L")
        current = {**current, **changes, "DECOM": day, "RNE": rne, "DEC": None, "REC": None,
                   "REASON_PLACE_CHANGE": None}
        episodes.append(current)
    if period.ceased is not None:
        current["DEC"], current["REC"] = period.ceased, period.reason
    return episodes


def collect(session: Session, start: date, end: date) -> Export:
    """The SSDA903 tables for children looked after at any time from ``start`` to ``end``."""
    export = Export(start, end)
    rows = list(session.scalars(select(Milestone).where(
        Milestone.process_id == ENG_LOOKED_AFTER, Milestone.actual_date.is_not(None),
        Milestone.code.in_(("LA_START", "PLACEMENT_START", "CEASED", "REVIEW_FIRST", "REVIEW")))
        .order_by(Milestone.subject_id, Milestone.instance_id, Milestone.code, Milestone.occurrence)))
    legal = list(session.scalars(select(Milestone).where(
        Milestone.process_id == ENG_CARE_PROCEEDINGS, Milestone.code == "LEGAL_STATUS",
        Milestone.actual_date.is_not(None)).order_by(Milestone.subject_id, Milestone.actual_date)))
    by_subject: dict[int, list[Milestone]] = defaultdict(list)
    legal_by_subject: dict[int, list[Milestone]] = defaultdict(list)
    for m in rows:
        by_subject[m.subject_id].append(m)
    for m in legal:
        legal_by_subject[m.subject_id].append(m)
    subjects = {s.id: s for s in session.scalars(select(Subject).where(
        Subject.id.in_(list(by_subject)))).all()} if by_subject else {}
    for subject_id in sorted(by_subject, key=lambda i: subjects[i].reference):
        subject = subjects[subject_id]
        ms = by_subject[subject_id]
        episodes = []
        for period in _periods([m for m in ms if m.code in ("LA_START", "PLACEMENT_START", "CEASED")],
                               legal_by_subject.get(subject_id, [])):
            episodes.extend(_episodes(subject.reference, period))
        episodes = [e for e in episodes if e["DECOM"] <= end and (e["DEC"] is None or e["DEC"] >= start)]
        if not episodes:
            continue
        for e in episodes:
            if e["DEC"] is not None and e["DEC"] > end:  # still open at the end of the range
                e["DEC"] = e["REC"] = None
            e["DECOM"], e["DEC"] = fmt(e["DECOM"]), fmt(e["DEC"])
            export.episodes.append({c: "" if e.get(c) is None else e[c] for c in EPISODE_COLUMNS})
        details = (subject.attributes or {}).get("ssda903", {})
        export.header.append({
            "CHILD": subject.reference, "SEX": details.get("sex", ""),
            "DOB": fmt(subject.date_of_birth), "ETHNIC": details.get("ethnicity", ""),
            "UPN": details.get("upn", ""),
            "MOTHER": "" if details.get("mother") is None else str(details["mother"]),
            "MC_DOB": fmt(date.fromisoformat(details["mc_dob"])) if details.get("mc_dob") else ""})
        for m in sorted((m for m in ms if m.code in ("REVIEW_FIRST", "REVIEW")),
                        key=lambda m: (m.actual_date, m.code)):
            if start <= m.actual_date <= end:
                export.reviews.append({"CHILD": subject.reference, "DOB": fmt(subject.date_of_birth),
                                       "REVIEW": fmt(m.actual_date),
                                       "REVIEW_CODE": (m.data or {}).get("participation", "")})
    return export


# -- validation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    table: str
    row: int          # 1-based data row in the table's CSV (0: the child as a whole)
    child: str
    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row}: child {self.child}, {self.field}: rule {self.rule}: {self.message}"


RULES = {
    "101": "Sex is not a valid code (M, F or U).",
    "102": "Date of birth is not a valid date.",
    "103": "Ethnicity is not a valid code or is missing.",
    "168": "UPN is not valid (a letter and 12 digits, or UN1 to UN5).",
    "442": "UPN is missing.",
    "165": "Mother status must be 0 or 1, and only for girls.",
    "171": "Date of birth of mother's child is not a valid date.",
    "174": "Mother's child's date of birth is recorded but the child is male.",
    "393": "The child is looked after but the mother field is not completed.",
    "141": "Date episode began is not a valid date.",
    "143": "Reason for new episode is not a valid code.",
    "144": "Legal status is not a valid code.",
    "145": "Category of need is not a valid code.",
    "146": "Placement type is not a valid code.",
    "526": "Placement provider is missing or not a valid code.",
    "147": "Date episode ceased is not a valid date.",
    "148": "Date episode ceased and reason episode ceased must both be given, or neither.",
    "149": "Reason episode ceased is not a valid code.",
    "1009": "Reason for placement change is not a valid code.",
    "142": "A new episode has started but the previous episode has not ended.",
    "501": "A new episode starts before the previous episode ended.",
    "356": "The episode ceased before it started.",
    "355": "The episode lasted less than a day.",
    "302": "The first episode starts before the child was born.",
    "385": "Date episode ceased is after the end of the collection period.",
    "431": "A new period of care starts on or before the day the previous one ended.",
    "432": "The previous episode ended the period of care but the new episode's reason is not S.",
    "433": "A continuation episode does not start on the day the previous episode ended.",
    "434": "Reason L (legal status change only) does not match the episode data.",
    "435": "Reason P (placement change only) does not match the episode data.",
    "436": "Reason B (legal status and placement change) does not match the episode data.",
    "225": "Reason for placement change must be recorded.",
    "226": "Reason for placement change is not required for a temporary placement.",
    "378": "A child placed with parents cannot be accommodated under section 20 (V2).",
    "392d": "Home and placement postcodes are the same but the placement is not with parents.",
    "550": "Placement provider PR0 (parents) can only go with placement P1.",
    "530": "Placement provider PR4 cannot go with placement P1.",
    "531": "Placement provider PR5 cannot go with placement P1.",
    "166": "Date of review is not a valid date.",
    "167": "Review participation code is not valid.",
    "440": "Participation PN0 (under 4) but the child was 4 or over at the review.",
    "441": "The child was under 4 at the review but participation is not PN0.",
    "INT08": "The child in the reviews file is not in the header file.",
    "INT17": "Date of birth differs from the header file.",
    "PACE-R1": "First review not held within 20 working days of the start of the period of care.",
    "PACE-R2": "Second review not held within 3 months of the first.",
    "PACE-R3": "Review not held within 6 months of the previous review.",
    "PACE-R4": "Review outside any period of care in the episodes file.",
    "REQ": "Required field is blank.",
}


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def validate(export: Export | Mapping[str, list[dict]], start: date | None = None,
             end: date | None = None) -> list[Finding]:
    """Check the three tables (exported, or read back from CSV with ``read_csv``)."""
    if isinstance(export, Export):
        tables, start, end = export.tables(), export.start, export.end
    else:
        tables = dict(export)
    header, episodes, reviews = (tables.get(t, []) for t in ("header", "episodes", "reviews"))
    found: list[Finding] = []

    def add(table, row, child, fieldname, rule):
        found.append(Finding(table, row, child or "", fieldname, rule, RULES[rule]))

    # -- header --------------------------------------------------------------------
    header_dob: dict[str, date | None] = {}
    sex_of: dict[str, str] = {}
    for n, r in enumerate(header, 1):
        child = r.get("CHILD", "")
        if not child:
            add("header", n, child, "CHILD", "REQ")
        if r.get("SEX") not in SEX_CODES:
            add("header", n, child, "SEX", "101")
        dob = parse(r.get("DOB"))
        header_dob[child], sex_of[child] = dob, r.get("SEX", "")
        if dob is None:
            add("header", n, child, "DOB", "102")
        if r.get("ETHNIC") not in ETHNIC_CODES:
            add("header", n, child, "ETHNIC", "103")
        if not r.get("UPN"):
            add("header", n, child, "UPN", "442")
        elif not UPN.match(r["UPN"]):
            add("header", n, child, "UPN", "168")
        mother = r.get("MOTHER", "")
        if mother and (mother not in ("0", "1") or r.get("SEX") == "M"):
            add("header", n, child, "MOTHER", "165")
        if r.get("MC_DOB"):
            if parse(r["MC_DOB"]) is None:
                add("header", n, child, "MC_DOB", "171")
            if r.get("SEX") == "M":
                add("header", n, child, "MC_DOB", "174")

    # -- episodes, each on its own -------------------------------------------------------
    by_child: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for n, r in enumerate(episodes, 1):
        child = r.get("CHILD", "")
        by_child[child].append((n, r))
        if not child:
            add("episodes", n, child, "CHILD", "REQ")
        if parse(r.get("DECOM")) is None:
            add("episodes", n, child, "DECOM", "141")
        if r.get("RNE") not in RNE_CODES:
            add("episodes", n, child, "RNE", "143")
        if r.get("LS") not in LS_CODES:
            add("episodes", n, child, "LS", "144")
        if r.get("CIN") not in CIN_CODES:
            add("episodes", n, child, "CIN", "145")
        if r.get("PLACE") not in PLACE_CODES:
            add("episodes", n, child, "PLACE", "146")
        if r.get("PLACE_PROVIDER") not in PROVIDER_CODES:
            add("episodes", n, child, "PLACE_PROVIDER", "526")
        if r.get("DEC") and parse(r["DEC"]) is None:
            add("episodes", n, child, "DEC", "147")
        if bool(r.get("DEC")) != bool(r.get("REC")):
            add("episodes", n, child, "DEC" if not r.get("DEC") else "REC", "148")
        if r.get("REC") and r["REC"] not in REC_CODES:
            add("episodes", n, child, "REC", "149")
        if r.get("REASON_PLACE_CHANGE") and r["REASON_PLACE_CHANGE"] not in PLACE_CHANGE_CODES:
            add("episodes", n, child, "REASON_PLACE_CHANGE", "1009")
        decom, dec = parse(r.get("DECOM")), parse(r.get("DEC"))
        if decom and dec:
            if dec < decom:
                add("episodes", n, child, "DEC", "356")
            elif dec == decom:
                add("episodes", n, child, "DEC", "355")
        if dec and end and dec > end:
            add("episodes", n, child, "DEC", "385")
        place, provider = r.get("PLACE"), r.get("PLACE_PROVIDER")
        if provider == "PR0" and place != "P1":
            add("episodes", n, child, "PLACE_PROVIDER", "550")
        if place == "P1" and provider in ("PR4", "PR5"):
            add("episodes", n, child, "PLACE_PROVIDER", "530" if provider == "PR4" else "531")
        if place == "P1" and r.get("LS") == "V2":
            add("episodes", n, child, "PLACE", "378")
        if (r.get("HOME_POST") and r.get("HOME_POST") == r.get("PL_POST") and place != "P1"):
            add("episodes", n, child, "PL_POST", "392d")

    # -- episodes in sequence --------------------------------------------------------------
    periods: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for child, rows in by_child.items():
        rows = sorted(rows, key=lambda nr: (parse(nr[1].get("DECOM")) or date.min, nr[0]))
        dob = header_dob.get(child)
        if rows and dob and (first := parse(rows[0][1].get("DECOM"))) and first < dob:
            add("episodes", rows[0][0], child, "DECOM", "302")
        period_start = None
        for index, (n, r) in enumerate(rows):
            decom, dec = parse(r.get("DECOM")), parse(r.get("DEC"))
            rne = r.get("RNE")
            if index == 0 or rne == "S":
                if period_start is not None and index > 0:
                    periods[child].append((period_start, parse(rows[index - 1][1].get("DEC"))))
                period_start = decom
            if index > 0:
                pn, prev = rows[index - 1]
                pdec = parse(prev.get("DEC"))
                if not prev.get("DEC") or not prev.get("REC"):
                    add("episodes", pn, child, "DEC", "142")
                if decom and pdec and decom < pdec:
                    add("episodes", n, child, "DECOM", "501")
                if rne == "S" and decom and pdec and decom <= pdec:
                    add("episodes", n, child, "DECOM", "431")
                if prev.get("REC") in CEASED_CODES and rne != "S":
                    add("episodes", n, child, "RNE", "432")
                if rne in ("P", "L", "T", "U", "B") and (pdec is None or decom != pdec):
                    add("episodes", n, child, "DECOM", "433")
                same_place = all((r.get(c) or "") == (prev.get(c) or "")
                                 for c in ("PLACE", "PL_POST", "URN", "PLACE_PROVIDER"))
                same_ls = r.get("LS") == prev.get("LS")
                if rne == "L" and (same_ls or not same_place):
                    add("episodes", n, child, "RNE", "434")
                if rne == "P" and (not same_ls or same_place):
                    add("episodes", n, child, "RNE", "435")
                if rne == "B" and (same_ls or same_place):
                    add("episodes", n, child, "RNE", "436")
                if (prev.get("REC") == "X1" and rne in ("P", "B", "T", "U")
                        and not prev.get("REASON_PLACE_CHANGE")
                        and prev.get("PLACE") not in TEMPORARY and r.get("PLACE") not in TEMPORARY):
                    add("episodes", pn, child, "REASON_PLACE_CHANGE", "225")
                if r.get("PLACE") in TEMPORARY and (r.get("REASON_PLACE_CHANGE") or prev.get("REASON_PLACE_CHANGE")):
                    add("episodes", n, child, "REASON_PLACE_CHANGE", "226")
        if rows and period_start is not None:
            periods[child].append((period_start, parse(rows[-1][1].get("DEC"))))
        female = sex_of.get(child) == "F"
        if female and not any(r.get("LS") in ("V3", "V4") for _, r in rows):
            h = next((i for i, hr in enumerate(header, 1) if hr.get("CHILD") == child), None)
            if h is not None and not header[h - 1].get("MOTHER"):
                add("header", h, child, "MOTHER", "393")

    # -- reviews --------------------------------------------------------------------------
    reviews_by_child: dict[str, list[tuple[int, date]]] = defaultdict(list)
    for n, r in enumerate(reviews, 1):
        child = r.get("CHILD", "")
        if child not in header_dob:
            add("reviews", n, child, "CHILD", "INT08")
        elif parse(r.get("DOB")) != header_dob[child]:
            add("reviews", n, child, "DOB", "INT17")
        day = parse(r.get("REVIEW"))
        if day is None:
            add("reviews", n, child, "REVIEW", "166")
        code = r.get("REVIEW_CODE", "")
        if code not in REVIEW_CODES:
            add("reviews", n, child, "REVIEW_CODE", "167")
        dob = parse(r.get("DOB")) or header_dob.get(child)
        if day and dob and code in REVIEW_CODES:
            if code == "PN0" and _age_on(dob, day) >= 4:
                add("reviews", n, child, "REVIEW_CODE", "440")
            if code != "PN0" and _age_on(dob, day) < 4:
                add("reviews", n, child, "REVIEW_CODE", "441")
        if day:
            reviews_by_child[child].append((n, day))

    # -- statutory review intervals (reg. 33), per period of care ------------------------
    for child, spans in periods.items():
        held = sorted(reviews_by_child.get(child, []), key=lambda nd: nd[1])
        for p_start, p_end in spans:
            if p_start is None:
                continue
            in_period = [(n, d) for n, d in held if d >= p_start and (p_end is None or d <= p_end)]
            horizon = min(d for d in (p_end, end) if d is not None) if (p_end or end) else None
            known_start = start is None or p_start >= start   # the first review is in range
            previous = p_start if known_start else None
            for index, (n, day) in enumerate(in_period):
                if previous is not None:
                    if known_start and index == 0:
                        limit, rule = add_working_days(p_start, 20, ENGLAND), "PACE-R1"
                    elif known_start and index == 1:
                        limit, rule = previous + relativedelta(months=3), "PACE-R2"
                    else:
                        limit, rule = previous + relativedelta(months=6), "PACE-R3"
                    if day > limit:
                        add("reviews", n, child, "REVIEW", rule)
                previous = day
            # a review that should have been held by the end of the period or range
            if horizon is not None and (previous is not None or not in_period):
                count = len(in_period)
                if not in_period and known_start:
                    due, rule = add_working_days(p_start, 20, ENGLAND), "PACE-R1"
                elif count == 1 and known_start:
                    due, rule = previous + relativedelta(months=3), "PACE-R2"
                elif previous is not None and in_period:
                    due, rule = previous + relativedelta(months=6), "PACE-R3"
                else:
                    continue
                if due < horizon:
                    row = next((n for n, r in by_child[child] if parse(r.get("DECOM")) == p_start), 0)
                    add("episodes", row, child, "REVIEW", rule)
        for n, day in reviews_by_child.get(child, []):
            if not any(s <= day and (e is None or day <= e) for s, e in spans if s):
                add("reviews", n, child, "REVIEW", "PACE-R4")
    for child in reviews_by_child.keys() - periods.keys():
        for n, _ in reviews_by_child[child]:
            add("reviews", n, child, "REVIEW", "PACE-R4")
    return found


def export_and_validate(session: Session, start: date, end: date) -> tuple[Export, list[Finding]]:
    export = collect(session, start, end)
    return export, validate(export)
