"""Validation of the SSDA903-style export (exported rows, or rows read back from CSV files
with ``read_csv``) against the published validation rules that are practical here, named by
their DfE rule number, plus the statutory review intervals of the Care Planning, Placement
and Case Review (England) Regulations 2010, reg. 33 (named ``PACE-R1``..``PACE-R4``: the DfE
return has no rule for them). Each finding names the table, row, child, field and rule.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from workflows.due_rules import ENGLAND, add_working_days
from workflows.returns.ssda903_format import (CEASED_CODES, CIN_CODES, ETHNIC_CODES, LS_CODES,
                                              PLACE_CHANGE_CODES, PLACE_CODES, PROVIDER_CODES,
                                              REC_CODES, REVIEW_CODES, RNE_CODES, SEX_CODES,
                                              TEMPORARY, UPN, Export, parse)


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
