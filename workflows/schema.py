"""The database schema, whole: every table and index of PACE Flow in one metadata.

Tables are declared beside the code that owns them: the runtime's in ``engine.models``
(sign-in sessions and API tokens too), PACE's own in ``workflows`` (aims, PDSA cycles and
run-chart flags, model drafts, import jobs) and the indexes PACE's measures read on the
engine's tables in ``workflows.measures.indexes``. Each lands on ``engine.models.Base``'s
metadata only when its module is imported, so a program that imports some of them sees a
partial schema: Alembic's env once imported two of them, and ``alembic revision
--autogenerate`` proposed dropping ``import_job``, ``model_draft`` and ``sign_in_session``.

So this module is the one owner. Alembic's env (``migrations/env.py``) and the app's
``Database`` (``workflows/app.py``) import it and nothing else for the schema; a new module
that declares tables is added to the imports below. ``configure_options`` holds the
settings autogenerate compares with, used by the env and by
``tests/integration/test_schema_check.py``, which runs ``alembic check`` on a freshly
migrated SQLite and PostgreSQL database: models and migrations that disagree fail the suite.
"""
from __future__ import annotations

from typing import Any

from engine import models as engine_models

# Imported for the tables (and indexes) they declare on the engine's Base.metadata.
from workflows.caseload import jobs as caseload_jobs
from workflows.casework import tables as casework_tables  # noqa: F401
from workflows.documents import tables as document_tables  # noqa: F401
from workflows.measures import indexes as measure_indexes, tables as settings_models
from workflows.process_models import drafts as model_drafts  # noqa: F401

metadata = engine_models.Base.metadata


def include_object(dialect_name: str):
    """Alembic's ``include_object`` hook for a database of ``dialect_name``.

    An index declared for one kind of database only (``engine.models.only_on``: SQLite's
    covering and partial indexes for the aims) is left out of the comparison elsewhere,
    where its migration does not create it. Everything else is compared.
    """
    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "index" and not reflected:
            dialects = obj.info.get("dialects")
            if dialects and dialect_name not in dialects:
                return False
        return True
    return include


def configure_options(dialect_name: str) -> dict[str, Any]:
    """What Alembic's context is configured with, for migrations and for the check.

    ``compare_type`` (Alembic's default, said explicitly) and ``compare_server_default``:
    the models set no server defaults and neither do the migrations, so any server default
    that appears on one side only is a real difference worth a migration.
    ``render_as_batch``: SQLite alters tables by copying them (``op.batch_alter_table``).
    Autogenerate compares an index's columns but not a partial index's WHERE clause; the
    schema test compares those itself.
    """
    return {"target_metadata": metadata, "compare_type": True,
            "compare_server_default": True, "include_object": include_object(dialect_name),
            "render_as_batch": True}
