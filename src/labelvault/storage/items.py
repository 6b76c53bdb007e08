"""Items: bulk insert for imports, paging for managers, streaming for exports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, func, select, text, update

from labelvault.storage.tables import assignments, items, users


def allocate_item_ids(conn: Connection, n: int) -> list[int]:
    """Reserve n item ids before insert, so ciphertexts can be bound to their row id.

    SQLite: the caller holds the write lock (BEGIN IMMEDIATE), so max(id) is stable.
    PostgreSQL: ids come from the items_id_seq sequence, safe across processes.
    """
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT nextval('items_id_seq') FROM generate_series(1, :n)"), {"n": n}
        )
        return [int(r[0]) for r in rows]
    start = conn.execute(select(func.coalesce(func.max(items.c.id), 0))).scalar_one()
    return list(range(int(start) + 1, int(start) + 1 + n))


_ITEM_COLUMNS = ("id", "org_id", "project_id", "external_id", "payload", "created_at")


def insert_items(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Bulk insert rows given as tuples in _ITEM_COLUMNS order.

    This is the import hot path, so it skips SQLAlchemy's per-row statement machinery:
    one DB-API executemany on SQLite, COPY on PostgreSQL.
    """
    if not rows:
        return
    cols = ", ".join(_ITEM_COLUMNS)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY items ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(_ITEM_COLUMNS))
    conn.exec_driver_sql(f"INSERT INTO items ({cols}) VALUES ({marks})", list(rows))


def existing_external_ids(
    conn: Connection, project_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """external_id -> item id for those already in the project (one bound parameter)."""
    if not external_ids:
        return {}
    if conn.dialect.name == "postgresql":
        stmt = text(
            "SELECT external_id, id FROM items WHERE project_id = :p AND external_id = ANY(:ids)"
        )
        params: dict[str, Any] = {"p": project_id, "ids": list(external_ids)}
    else:
        stmt = text(
            "SELECT external_id, id FROM items WHERE project_id = :p "
            "AND external_id IN (SELECT value FROM json_each(:ids))"
        )
        params = {"p": project_id, "ids": orjson.dumps(list(external_ids)).decode()}
    return {e: int(i) for e, i in conn.execute(stmt, params)}


def update_payloads(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows with keys b_id and b_payload."""
    if rows:
        conn.execute(
            update(items)
            .where(items.c.id == bindparam("b_id"))
            .values(payload=bindparam("b_payload")),
            rows,
        )


def list_items(
    conn: Connection, org_id: int, project_id: int, *, after: int, limit: int
) -> list[dict[str, Any]]:
    stmt = (
        select(items.c.id, items.c.external_id, items.c.payload, items.c.created_at)
        .where(items.c.org_id == org_id, items.c.project_id == project_id, items.c.id > after)
        .order_by(items.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


_GET_ITEM = select(items.c.id, items.c.external_id, items.c.payload, items.c.created_at).where(
    items.c.org_id == bindparam("org"),
    items.c.project_id == bindparam("project"),
    items.c.id == bindparam("item"),
)


def get_item(conn: Connection, org_id: int, project_id: int, item_id: int) -> dict[str, Any] | None:
    params = {"org": org_id, "project": project_id, "item": item_id}
    row = conn.execute(_GET_ITEM, params).mappings().first()
    return dict(row) if row else None


def annotations_for_items(
    conn: Connection, project_id: int, item_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """Finished assignments (submitted or skipped) of the given items, oldest first."""
    if not item_ids:
        return []
    stmt = (
        select(
            assignments.c.id,
            assignments.c.item_id,
            assignments.c.annotator_id,
            users.c.email.label("annotator"),
            assignments.c.status,
            assignments.c.submitted_at,
            assignments.c.schema_version,
            assignments.c.answer,
            assignments.c.skip_reason,
        )
        .join(users, users.c.id == assignments.c.annotator_id)
        .where(
            assignments.c.project_id == project_id,
            assignments.c.item_id.in_(bindparam("ids", expanding=True)),
            assignments.c.status.in_(("submitted", "skipped")),
        )
        .order_by(assignments.c.item_id, assignments.c.id)
    )
    return [dict(r) for r in conn.execute(stmt, {"ids": list(item_ids)}).mappings()]


_PAGE_ITEMS_SQL = (
    "SELECT id, external_id, payload FROM items "
    "WHERE org_id = {p} AND project_id = {p} AND id > {p} ORDER BY id LIMIT {p}"
)
_PAGE_ANSWERS_SQL = (
    "SELECT id, item_id, annotator_id, status, submitted_at, schema_version, answer, skip_reason "
    "FROM assignments WHERE project_id = {p} AND item_id >= {p} AND item_id <= {p} "
    "AND status IN ('submitted', 'skipped') ORDER BY item_id, id"
)

ItemTuple = tuple[int, str | None, bytes]
AnswerTuple = tuple[int, int, int, str, int | None, int | None, bytes | None, bytes | None]


def iter_export_pages(
    conn: Connection, org_id: int, project_id: int, *, page: int = 5000
) -> Iterator[tuple[list[ItemTuple], list[AnswerTuple]]]:
    """Pages of (items, their finished answers), in item id order, as plain tuples.

    Keyset pagination over item ids and one range query for each page's answers keep
    memory flat and every query on an index. This is the export hot path (a million rows
    and more), so it reads through the DB-API cursor, skipping per-row result objects.
    Answers come as (id, item_id, annotator_id, status, submitted_at, schema_version,
    answer, skip_reason).
    """
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    items_sql = _PAGE_ITEMS_SQL.format(p=mark)
    answers_sql = _PAGE_ANSWERS_SQL.format(p=mark)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        after = 0
        while True:
            cursor.execute(items_sql, (org_id, project_id, after, page))
            batch = [(int(i), e, bytes(p)) for i, e, p in cursor.fetchall()]
            if not batch:
                return
            lo, hi = batch[0][0], batch[-1][0]
            cursor.execute(answers_sql, (project_id, lo, hi))
            yield batch, cursor.fetchall()
            after = hi
    finally:
        cursor.close()


def refresh_statistics(conn: Connection) -> None:
    """Update the planner's statistics after a bulk change (a large import).

    Without them a freshly filled table looks empty to the planner, which then picks plans
    that scan instead of seek (PostgreSQL's autoanalyze catches up only later).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE items")
        return
    conn.exec_driver_sql("PRAGMA analysis_limit=2000")
    conn.exec_driver_sql("ANALYZE items")
