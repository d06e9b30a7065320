"""The outcome columns of the caseload CSV: what the last Aim 1 review recommended and what
the Children's Hearing decided, read from a cell (pure: no database).

The Aim 1 outcome mix counts the recommendations, so an import must carry each child's own
rather than one value for every child. A council's spreadsheet may hold the form's codes
(``terminate``) or the words a worker sees (``Terminate the CSO``): both are accepted, in
any case. A blank recommendation is *not recorded*: the import records the review with the
form's import-only choice (``x-import-only``), never a guessed value, and the measures count
it under "Not recorded". The titles are those of the shipped forms (hold_aim1_review,
record_hearing_decision); a test compares them.
"""
from __future__ import annotations

import re

AIM1_RECOMMENDATIONS = {"terminate": "Terminate the CSO", "continue": "Continue the CSO",
                        "vary": "Vary the CSO",
                        "permanence_away": "Begin permanence planning away from home"}
HEARING_DECISIONS = {"continued": "CSO continued", "varied": "CSO varied",
                     "terminated": "CSO terminated"}
# The review form's field for the recommendation, and what a blank cell is recorded as.
RECOMMENDATION_FIELD = "recommendation"
NOT_RECORDED = "not_recorded"
OUTCOME_COLUMNS = {"aim1_recommendation": AIM1_RECOMMENDATIONS,
                   "hearing_decision": HEARING_DECISIONS}
_AWAY = ("away from home", "child to be looked after away from home")


def _words(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


_BY_WORDS = {column: {_words(w): code for code, title in allowed.items() for w in (code, title)}
             for column, allowed in OUTCOME_COLUMNS.items()}


def read_outcome(column: str, text: str) -> tuple[str | None, str | None]:
    """(code, None) for a known value, (None, None) for a blank cell, (None, reason) for
    anything else: the reason names what may be written."""
    if not text.strip():
        return None, None
    code = _BY_WORDS[column].get(_words(text))
    if code:
        return code, None
    allowed = OUTCOME_COLUMNS[column]
    reason = (f"{text!r} is not one of {', '.join(allowed)} (or the form's words: "
              + "; ".join(allowed.values()) + ")")
    if column == "aim1_recommendation" and _words(text) in ("not recorded", "unknown"):
        reason += "; leave it blank when the records do not say: it is recorded as not recorded"
    if column == "hearing_decision" and _words(text) in _AWAY:
        reason += ("; a Hearing that decided on permanence away from home: import the child "
                   "as accommodated")
    return None, reason
