"""Items: bulk insert for imports, paging for managers, streaming for exports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, func, select, text, update

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


_PAGE_ITEMS = (
    select(items.c.id, items.c.external_id, items.c.payload)
    .where(
        items.c.org_id == bindparam("org"),
        items.c.project_id == bindparam("project"),
        items.c.id > bindparam("after"),
    )
    .order_by(items.c.id)
    .limit(bindparam("limit"))
)
_PAGE_ANSWERS = (
    select(
        assignments.c.id,
        assignments.c.item_id,
        assignments.c.annotator_id,
        assignments.c.status,
        assignments.c.submitted_at,
        assignments.c.schema_version,
        assignments.c.answer,
        assignments.c.skip_reason,
    )
    .where(
        assignments.c.project_id == bindparam("project"),
        assignments.c.item_id >= bindparam("lo"),
        assignments.c.item_id <= bindparam("hi"),
        assignments.c.status.in_(("submitted", "skipped")),
    )
    .order_by(assignments.c.item_id, assignments.c.id)
)


def iter_items_with_annotations(
    conn: Connection, org_id: int, project_id: int, *, page: int = 5000
) -> Iterator[tuple[Row[Any], list[Row[Any]]]]:
    """Every item of a project with its finished assignments, in id order, page by page.

    Keyset pagination over item ids, and one range query for the answers of each page,
    keep memory flat and every query on an index however large the project is.
    """
    after = 0
    while True:
        batch = conn.execute(
            _PAGE_ITEMS, {"org": org_id, "project": project_id, "after": after, "limit": page}
        ).all()
        if not batch:
            return
        lo, hi = batch[0].id, batch[-1].id
        by_item: dict[int, list[Row[Any]]] = {}
        for ann in conn.execute(_PAGE_ANSWERS, {"project": project_id, "lo": lo, "hi": hi}):
            by_item.setdefault(ann.item_id, []).append(ann)
        for row in batch:
            yield row, by_item.get(row.id, [])
        after = hi
