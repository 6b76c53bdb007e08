"""Parquet reader: one item per row, read batch by batch so memory stays flat.

Values become plain JSON-compatible Python: timestamps and dates as ISO 8601 strings,
durations as seconds, decimals as strings (exact), maps as objects, binary as text when
it is UTF-8 and as base64 otherwise. Row size is not checked here: Parquet rows are
decoded column-wise, so the caller checks the size of the payload it stores.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from labelvault.errors import BadRequest
from labelvault.formats.items import ParsedItem, RowError, RowProblem, item_from_object

BATCH_ROWS = 8192


def read_parquet(
    stream: BinaryIO, *, batch_rows: int = BATCH_ROWS
) -> Iterator[ParsedItem | RowError]:
    """Yield one ParsedItem or RowError per row; `line` is the 1-based row number.

    The stream must be seekable (Parquet keeps its index at the end of the file).
    """
    if not stream.seekable():
        raise BadRequest(
            "a Parquet body must be read from a seekable file",
            hint="upload the Parquet file as a file, not as a stream",
        )
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError) as exc:
        raise BadRequest(
            f"the body is not a readable Parquet file: {exc}",
            hint="check that the file was written completely by a Parquet writer",
        ) from None
    needs_conversion = any(_needs_conversion(field.type) for field in parquet.schema_arrow)
    row_number = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist(maps_as_pydicts="lossy"):
            row_number += 1
            try:
                if needs_conversion:
                    row = {key: _json_value(value) for key, value in row.items()}
                yield item_from_object(row_number, row)
            except RowProblem as exc:
                yield RowError(row_number, f"row {row_number}: {exc}")


def _needs_conversion(arrow_type: pa.DataType) -> bool:
    """True when to_pylist would produce values that are not JSON types."""
    if pa.types.is_struct(arrow_type):
        return any(
            _needs_conversion(arrow_type.field(i).type) for i in range(arrow_type.num_fields)
        )
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _needs_conversion(arrow_type.value_type)
    if pa.types.is_fixed_size_list(arrow_type):
        return _needs_conversion(arrow_type.value_type)
    return not (
        pa.types.is_null(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or (pa.types.is_dictionary(arrow_type) and not _needs_conversion(arrow_type.value_type))
    )


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):  # a struct, or a map (whose keys need not be strings)
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    raise RowProblem(
        f"a value of type {type(value).__name__} cannot be stored as JSON; "
        "convert that column to text or numbers"
    )
