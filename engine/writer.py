"""The save path's flush: its rows written by prebuilt Core statements, not the unit of work.

A completion (and every ``Runtime.save``) leaves the same few objects to write: the
instance's new state (version-checked), the work item it closed and those it opened, the
chain head and the audit events. The ORM's unit of work costs several times what the
statements themselves cost (on SQLite about 0.1 ms per object against 0.02 ms per Core
statement), so ``flush`` writes those objects itself, in one order, then tells the session
they are persistent, exactly as a flush leaves them. Anything else pending (rows of other
tables, deletions, a new chain or instance) goes through ``session.flush()`` as before.

``flush`` returns the audit events it wrote so (and the work items it inserted): the
ORM's ``after_flush`` listener, which derives the notices of events flushed the usual way,
never sees them, so the runtime derives theirs (``Runtime.flush``,
engine/notice_derivation.py).
"""
from __future__ import annotations

from sqlalchemy import (Integer, String, bindparam, func, insert, inspect, literal_column, null,
                        select, union_all, update)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from . import milestones
from .db import STALE_MESSAGE
from .errors import Conflict
from .models import AuditChain, AuditEvent, Milestone, ProcessInstance, WorkItem

_UPDATED = (ProcessInstance, WorkItem, AuditChain)  # persistent objects written here
_INSERTED = (WorkItem, AuditEvent)                  # new objects written here


def flush(session: Session, milestone_rows: list | None = None) -> tuple[list[AuditEvent], dict]:
    """``session.flush()``, with the save path's objects written by Core statements, and
    ``milestone_rows`` (milestones.sync_rows' ``pending``) upserted: on PostgreSQL in the
    statement of the other writes when there is one, else first, by a statement of their own.
    Returns the audit events written by those statements, in order, and the work items
    inserted with them ((instance id, task id) -> item); none when the ORM flushed them."""
    new = session.new
    if not new and not session.dirty:
        _write_milestones(session, milestone_rows)
        return [], {}
    if session.deleted or any(type(obj) not in _INSERTED for obj in new):
        _write_milestones(session, milestone_rows)
        session.flush()  # rare shapes (a first event of a chain, a new instance): the ORM's way
        return [], {}
    connection = session.connection()
    written = set()
    # Updates first, the instance's version check before anything else.
    dirty = sorted((obj for obj in session.dirty if type(obj) in _UPDATED),
                   key=lambda obj: _UPDATED.index(type(obj)))
    updates = []  # (mapped class, changed values, row key, version read)
    for obj in dirty:
        state = inspect(obj)
        changes = changed_columns(state)
        if changes is None:
            continue  # a change the statements below do not cover: left to the ORM
        written.add(state)
        if not changes:
            continue
        mapped = type(obj)
        if mapped is ProcessInstance:
            old = state.dict["version"]
            changes["version"] = state.dict["version"] = old + 1
            updates.append((mapped, changes, obj.id, old))
        else:
            updates.append((mapped, changes, obj.chain if mapped is AuditChain else obj.id, None))
    objects = sorted(new, key=lambda obj: inspect(obj).insert_order)
    items = [obj for obj in objects if type(obj) is WorkItem]
    events = [obj for obj in objects if type(obj) is AuditEvent]
    item_rows = [_row(obj, WorkItem.__table__) for obj in items]
    event_rows = [_row(obj, AuditEvent.__table__) for obj in events]
    milestone_rows = milestone_rows or []
    if connection.dialect.name == "postgresql" and len(updates) + bool(items) > 1 \
            and _same_keys(item_rows) and _same_keys(milestone_rows):
        ids = _write_at_once(connection, updates, item_rows, milestone_rows)
        for obj in items:
            inspect(obj).dict["id"] = ids[(obj.instance_id, obj.task_id)]
        batches = ((events, event_rows),)
    else:
        _write_milestones(session, milestone_rows)
        _write_each(connection, updates)
        batches = ((items, item_rows), (events, event_rows))
    for batch, rows in batches:
        if not batch:
            continue
        insert_ = _INSERT[type(batch[0])]
        if _same_keys(rows) and len(rows) > 1 and connection.dialect.name == "sqlite" \
                and len(rows) * len(rows[0]) <= _SQLITE_PARAMETERS:
            ids = _insert_rows_sqlite(connection, type(batch[0]), rows)
        elif _same_keys(rows):
            # One statement where the dialect can return the ids in order (PostgreSQL),
            # else (SQLite, one row) one per row.
            ids = connection.execute(insert_, rows).scalars().all()
        else:
            ids = [connection.execute(insert_, row).scalar_one() for row in rows]
        for obj, obj_id in zip(batch, ids):
            inspect(obj).dict["id"] = obj_id
    written.update(inspect(obj) for obj in objects)
    # What the unit of work does after its statements (private, but the ORM's own step):
    # new objects become persistent under their ids, every written object clean, and the
    # transaction remembers them, so a rollback expunges or expires them as after a flush.
    session._register_persistent(written)
    session.flush()  # whatever else is pending (nothing, on a completion)
    return events, {(item.instance_id, item.task_id): item for item in items} if events else {}


def _write_milestones(session: Session, rows: list | None) -> None:
    if rows:
        milestones.write_rows(session.connection(), rows)


def _same_keys(rows: list[dict]) -> bool:
    return all(row.keys() == rows[0].keys() for row in rows)


def _write_each(connection, updates: list) -> None:
    for mapped, changes, key, version in updates:
        params = {**_bind(changes), "w_key": key}
        if version is None:
            connection.execute(update_statement(mapped, changes), params)
        else:
            params["w_version"] = version
            if connection.execute(update_statement(mapped, changes), params).rowcount != 1:
                raise Conflict(STALE_MESSAGE)


def _write_at_once(connection, updates: list, item_rows: list, milestone_rows: list) -> dict:
    """PostgreSQL: the UPDATEs, the new work items and the milestone upserts in one
    statement (one round trip), as data-modifying CTEs, each run whatever the others find
    (they touch different rows, so none needs to see another's). Back come how many
    instance rows matched their version (a mismatch rolls the whole transaction back, as
    a failed check always has) and the new items' ids by (instance id, task id). The
    audit events go in a statement of their own: together they would pass the 50
    parameters up to which psycopg keeps a statement's parsed form."""
    shape = (tuple((mapped, tuple(changes)) for mapped, changes, _k, _v in updates),
             len(item_rows), tuple(item_rows[0]) if item_rows else (),
             len(milestone_rows), tuple(milestone_rows[0]) if milestone_rows else ())
    statement = _COMBINED.get(shape)
    if statement is None:
        statement = _COMBINED[shape] = _combined(*shape)
    params = {}
    for n, (mapped, changes, key, version) in enumerate(updates):
        params.update(_bind(changes, f"{n}_"), **{f"w{n}_key": key})
        if version is not None:
            params[f"w{n}_version"] = version
    for r, row in enumerate(item_rows):
        params.update({f"i{r}_{key}": value for key, value in row.items()})
    for r, row in enumerate(milestone_rows):
        params.update({f"m{r}_{key}": value for key, value in row.items()})
    ids, checked = {}, 0
    for row_id, task_id, instance_id in connection.execute(statement, params):
        if task_id is None:
            checked = row_id
        else:
            ids[(instance_id, task_id)] = row_id
    if checked != sum(mapped is ProcessInstance for mapped, *_ in updates):
        raise Conflict(STALE_MESSAGE)
    return ids


def changed_columns(state) -> dict | None:
    """Column values set since the object was loaded and now different (None: a change
    to something other than a column). The timer sweep's batch reads it too."""
    columns = state.mapper.column_attrs
    changes = {}
    for key, before in state.committed_state.items():
        if key not in columns:
            return None
        value = state.dict.get(key)
        if before is NO_VALUE or before != value:
            changes[key] = value
    return changes


def _bind(changes: dict, prefix: str = "_") -> dict:
    return {f"v{prefix}{key}": value for key, value in changes.items()}


_UPDATES: dict[tuple, object] = {}


def update_statement(mapped, changes, prefix: str = "_"):
    """UPDATE of these columns of one row (ProcessInstance: only at the version read),
    built once per set of columns (and parameter prefix). Parameters: ``w{prefix}key``,
    ``w{prefix}version`` and ``v{prefix}<column>`` (the timer sweep's batch sends many)."""
    key = (mapped, tuple(changes), prefix)
    found = _UPDATES.get(key)
    if found is None:
        table = mapped.__table__
        where = [table.c[mapped.__mapper__.primary_key[0].key] == bindparam(f"w{prefix}key")]
        if mapped is ProcessInstance:
            where.append(table.c.version == bindparam(f"w{prefix}version"))
        found = _UPDATES[key] = update(table).where(*where).values(
            {table.c[column]: bindparam(f"v{prefix}{column}") for column in changes})
    return found


_COMBINED: dict[tuple, object] = {}


def _combined(update_shapes: tuple, rows: int, columns: tuple, milestone_rows: int = 0,
              milestone_columns: tuple = ()):
    """The statement of ``_write_at_once`` for one shape of writes (built once per shape):
    ``update_shapes`` (class, columns) each, ``rows`` new work items of ``columns`` and
    ``milestone_rows`` milestone upserts of ``milestone_columns``."""
    ctes, checked = [], []
    if milestone_rows:
        ctes.append(milestones.upsert(_insert_select(
            Milestone.__table__, milestone_rows, milestone_columns, "m", postgresql.insert))
            .cte("milestones"))
    for n, (mapped, changed) in enumerate(update_shapes):
        statement = update_statement(mapped, changed, f"{n}_")
        if mapped is ProcessInstance:
            checked.append(statement.returning(mapped.__table__.c.id).cte(f"checked_{n}"))
        else:
            ctes.append(statement.cte(f"written_{n}"))
    count = sum((select(func.count()).select_from(cte).scalar_subquery() for cte in checked),
                literal_column("0"))
    parts = [select(count, null().cast(String), null().cast(Integer))]
    if rows:
        table = WorkItem.__table__
        inserted = _insert_select(table, rows, columns, "i") \
            .returning(table.c.id, table.c.task_id, table.c.instance_id).cte("inserted")
        parts.append(select(inserted.c.id, inserted.c.task_id, inserted.c.instance_id))
    return union_all(*parts).add_cte(*ctes) if len(parts) > 1 else parts[0].add_cte(*ctes)


def _insert_select(table, rows: int, columns: tuple, prefix: str, insert_=insert):
    """INSERT .. SELECT of ``rows`` rows of ``columns`` in order, as SQLAlchemy's own
    batches (the ids go up in the rows' order); a multi-row VALUES would not be kept in its
    compiled cache. Parameters: ``{prefix}{row number}_{column}``."""
    given = union_all(*(select(literal_column(str(r)).label("row_n"), *(
        bindparam(f"{prefix}{r}_{c}", type_=table.c[c].type).label(c) for c in columns))
        for r in range(rows))).subquery("given")
    return insert_(table).from_select(
        list(columns), select(*(given.c[c] for c in columns)).order_by(given.c.row_n))


def _row(obj, table) -> dict:
    """The object's values for the INSERT, as the unit of work sends them: the columns
    set, column defaults for those not set (set on the object too, so reading them later
    needs no query) and nothing for the rest, which stay SQL NULL (a JSON column given
    None would hold JSON null instead)."""
    values = inspect(obj).dict
    row = {}
    for column in table.columns:
        key = column.key
        if key in values:
            if key != "id":
                row[key] = values[key]
        elif column.default is not None:
            default = column.default
            row[key] = values[key] = default.arg if default.is_scalar else default.arg(None)
        elif key != "id":
            values[key] = None
    return row


_SQLITE_PARAMETERS = 999  # the least limit of a statement's parameters SQLite builds have had
_MULTI_ROW: dict[tuple, object] = {}


def _insert_rows_sqlite(connection, mapped, rows: list[dict]) -> list[int]:
    """SQLite: the rows in one statement (SQLAlchemy's own batch sends one per row there,
    as SQLite does not promise RETURNING's order). The ids still map to the rows in order:
    the writer holds the database's write lock (``BEGIN IMMEDIATE``, see engine/db.py) and
    never gives an id, so SQLite numbers the rows upwards in the order the SELECT gives
    them, and the returned ids sorted are the rows' ids in order."""
    columns = tuple(rows[0])
    key = (mapped, len(rows), columns)
    statement = _MULTI_ROW.get(key)
    if statement is None:
        table = mapped.__table__
        statement = _MULTI_ROW[key] = _insert_select(table, len(rows), columns, "r") \
            .returning(table.c.id)
    params = {f"r{r}_{c}": value for r, row in enumerate(rows) for c, value in row.items()}
    return sorted(connection.execute(statement, params).scalars())


_INSERT = {mapped: insert(mapped.__table__).returning(mapped.__table__.c.id,
                                                      sort_by_parameter_order=True)
           for mapped in _INSERTED}
