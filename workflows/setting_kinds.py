"""The kinds of value a setting may hold: each turns a TOML value into its environment
variable's text, or raises ValueError saying what is expected, so a settings file's mistake
is named by key and kind (``workflows.configuration`` declares which setting has which kind).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

HIDDEN = "********"


@dataclass(frozen=True)
class Text:
    example: str = ""
    pattern: str | None = None   # a regular expression the whole value must match
    rule: str = ""               # the pattern in words

    def from_toml(self, value) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected text in quotes{self._e()}")
        self.check(value)
        return value

    def check(self, text: str) -> None:
        if any(ord(c) < 32 for c in text):
            raise ValueError("expected one line of text, without control characters")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ValueError(f"expected {self.rule}{self._e()}")

    def shown(self, text: str) -> str:
        return text

    def _e(self) -> str:
        return f" (e.g. {self.example})" if self.example else ""


@dataclass(frozen=True)
class Whole:
    low: int
    high: int
    example: int

    def from_toml(self, value) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number from {self.low} to {self.high}, without "
                             f"quotes (e.g. {self.example})")
        self.check(str(value))
        return str(value)

    def check(self, text: str) -> None:
        if not text.strip().isdigit() or not self.low <= int(text) <= self.high:
            raise ValueError(f"expected a whole number from {self.low} to {self.high} "
                             f"(e.g. {self.example})")

    def shown(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class YesNo:
    def from_toml(self, value) -> str:
        if not isinstance(value, bool):
            raise ValueError("expected true or false, without quotes")
        return "1" if value else "0"

    def check(self, text: str) -> None:
        if text.strip() not in ("0", "1"):
            raise ValueError("expected 1 (on) or 0 (off)")

    def shown(self, text: str) -> str:
        return "true" if text.strip() == "1" else "false"


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]

    def from_toml(self, value) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(f"expected one of {', '.join(repr(c) for c in self.choices)}")
        return value

    def check(self, text: str) -> None:
        self.from_toml(text.strip().lower())

    def shown(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class Names:
    """A list of names from ``choices`` (TOML ``["scotland", "england"]``), kept as text
    separated by commas, as the variable always was."""
    choices: tuple[str, ...]

    def from_toml(self, value) -> str:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) and n in self.choices for n in names):
            raise ValueError("expected a list of one or more of "
                             f"{', '.join(repr(c) for c in self.choices)} "
                             f"(e.g. [{', '.join(repr(c) for c in self.choices)}])")
        return ",".join(names)

    def check(self, text: str) -> None:
        self.from_toml([n.strip().lower() for n in text.replace(";", ",").split(",") if n.strip()])

    def shown(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class Zone:
    def from_toml(self, value) -> str:
        if not isinstance(value, str):
            raise ValueError("expected a time zone name in quotes (e.g. \"Europe/London\")")
        self.check(value)
        return value

    def check(self, text: str) -> None:
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected a time zone of the IANA database (e.g. Europe/London), "
                             f"not {text!r}") from None

    def shown(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class Words:
    """A list of words (TOML ``["openid", "email"]``), kept as text separated by spaces."""
    example: str

    def from_toml(self, value) -> str:
        if not isinstance(value, list) or not value or not all(
                isinstance(w, str) and w and not any(c.isspace() for c in w) for w in value):
            raise ValueError(f"expected a list of words in quotes (e.g. {self.example})")
        return " ".join(value)

    def check(self, text: str) -> None:
        pass

    def shown(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class GroupMap:
    """The provider's groups to roles or teams (TOML table ``[oidc.role_map]`` of
    ``"group" = "value"`` or ``"group" = ["v1", "v2"]``), kept as JSON, which the sign-in
    settings read (workflows/sign_in_settings.py)."""
    example: str

    def from_toml(self, value) -> str:
        if not isinstance(value, dict) or not all(
                isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(i, str)
                                                                         for i in v))
                for v in value.values()):
            raise ValueError(f"expected a table of \"group\" = \"value\" or \"group\" = "
                             f"[\"value\", …] (e.g. {self.example})")
        return json.dumps(value, ensure_ascii=False)

    def check(self, text: str) -> None:
        pass

    def shown(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class Url(Text):
    """A database URL: read as SQLAlchemy reads it (a port that is not a number is refused
    here, naming the setting), shown with its password hidden."""

    def check(self, text: str) -> None:
        super().check(text)
        try:
            make_url(text).port  # noqa: B018 - parsing the port is the check
        except (ArgumentError, ValueError):
            raise ValueError(f"expected {self.rule} (e.g. {self.example}) with a port that "
                             "is a number, if any") from None

    def shown(self, text: str) -> str:
        return re.sub(r"(^|://)([^:/@]*):[^@/]*@", rf"\1\2:{HIDDEN}@", text)
