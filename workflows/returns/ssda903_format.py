"""The SSDA903 return's format: three CSV files with the column names and date format
(DD/MM/YYYY) of the Department for Education's SSDA903 return (children looked after), its
code lists, and the ``Export`` that holds and writes them.

- ``header.csv``  CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB
- ``episodes.csv`` CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC,
  REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN
- ``reviews.csv`` CHILD, DOB, REVIEW, REVIEW_CODE

``ssda903`` builds the export from milestones; ``ssda903_rules`` validates it.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from engine import csv_cells

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
