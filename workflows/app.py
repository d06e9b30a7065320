"""Wiring, built once and used by the web app, the CLI, tests and bench alike: one engine,
session factory and PACE runtime per database (``Database.connect``), the deployment's
settings read from the environment (``Settings``), the unit of work (``transaction``) and
the schema upgrade (``migrate``)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.db import make_engine, make_session_factory, unit_of_work
from engine.runtime import Runtime
from workflows.measures.aims import DEFAULT_COUNCIL
from workflows.measures.run_charts import FEW_CHILDREN
from .engine_config import pace_runtime
from . import rule_settings
from .casework.attachment_settings import AttachmentSettings, AttachmentSettingsError
from .sign_in_settings import SignInSettings, SignInSettingsError
from . import schema  # noqa: F401 - every table, in the one metadata (workflows/schema.py)

ROOT = Path(__file__).resolve().parent.parent
_COUNCIL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")  # fits aim_setting.council


class SettingsError(ValueError):
    """A deployment setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """What the environment says about this deployment, read once by ``Database.connect``
    and used by the pages, the API and the CLI alike.

    ``council``: ``PACE_COUNCIL``, the council whose aim settings, PDSA cycles and run-chart
    flags are read and written (a short code such as ``midlothian``; default ``default``).
    ``sign_in``: local passwords and the council's OpenID Connect provider
    (``PACE_LOCAL_PASSWORDS``, ``PACE_OIDC_*``: workflows/sign_in_settings.py).
    ``attachments``: the largest file a worker may attach and the ClamAV daemon that scans
    it (``PACE_ATTACHMENT_MAX_MB``, ``PACE_CLAMD``: workflows/casework/attachment_settings.py).
    ``run_chart_few_children``: ``PACE_RUN_CHART_FEW_CHILDREN`` (1-100, default 5), a run
    chart marks each month resting on fewer children than this
    (``workflows.measures.run_charts.FEW_CHILDREN``).
    """
    council: str = DEFAULT_COUNCIL
    sign_in: SignInSettings = field(default_factory=SignInSettings)
    attachments: AttachmentSettings = field(default_factory=AttachmentSettings)
    run_chart_few_children: int = FEW_CHILDREN

    def __post_init__(self):
        if not _COUNCIL_CODE.match(self.council):
            raise SettingsError(
                f"PACE_COUNCIL={self.council!r} is not a council code: use lower-case letters, "
                "digits, '_' or '-', at most 60 characters (e.g. midlothian)")
        if not 1 <= self.run_chart_few_children <= 100:
            raise SettingsError(f"PACE_RUN_CHART_FEW_CHILDREN={self.run_chart_few_children}: "
                                "expected a whole number from 1 to 100 (e.g. 5)")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        try:
            sign_in = SignInSettings.from_environ(environ)
            attachments = AttachmentSettings.from_environ(environ)
        except (SignInSettingsError, AttachmentSettingsError) as exc:
            raise SettingsError(str(exc)) from None
        few = environ.get("PACE_RUN_CHART_FEW_CHILDREN", "").strip()
        if few and not few.isdigit():
            raise SettingsError(f"PACE_RUN_CHART_FEW_CHILDREN={few!r}: expected a whole number "
                                "from 1 to 100 (e.g. 5)")
        return cls(council=environ.get("PACE_COUNCIL", "").strip() or DEFAULT_COUNCIL,
                   sign_in=sign_in, attachments=attachments,
                   run_chart_few_children=int(few) if few else FEW_CHILDREN)


@dataclass
class Database:
    engine: Engine
    factory: sessionmaker[Session]
    runtime: Runtime
    settings: Settings = field(default_factory=Settings)

    @classmethod
    def connect(cls, url: str, settings: Settings | None = None, **engine_kwargs) -> "Database":
        """``settings``: by default read from the environment (``Settings.from_environ``)."""
        return cls.wire(make_engine(url, **engine_kwargs), pace_runtime(),
                        settings or Settings.from_environ())

    @classmethod
    def wire(cls, engine: Engine, runtime: Runtime,
             settings: Settings | None = None) -> "Database":
        """A session factory for ``engine`` whose flushes derive ``runtime``'s notices (its
        configuration's policy) from the audit events they write; the runtime derives those
        of its own save path itself (engine/notice_derivation.py)."""
        settings = settings or Settings()
        factory = make_session_factory(engine)
        # the council whose settings a diagram's rules read (workflows/rule_settings.py)
        factory.configure(info={rule_settings.COUNCIL_KEY: settings.council})
        runtime.notices.listen(factory)
        return cls(engine, factory, runtime, settings)

    @contextmanager
    def transaction(self, read_only: bool = False):
        """``read_only``: for pages that only read (see engine/db.py)."""
        with unit_of_work(self.factory, read_only=read_only) as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
