"""Streaming import readers and export writers (JSONL, JSON list, CSV, Parquet).

No database access: readers turn a binary stream into `ParsedItem`/`RowError` values,
writers turn export records into chunks of bytes. Memory stays flat in both directions.
"""

from labelvault.formats.detect import IMPORT_FORMATS, detect_format
from labelvault.formats.export import (
    EXPORT_FORMATS,
    FILE_EXTENSIONS,
    MEDIA_TYPES,
    check_export_format,
    iter_export,
)
from labelvault.formats.items import MAX_EXTERNAL_ID_CHARS, ParsedItem, RowError
from labelvault.formats.readers import DEFAULT_MAX_ROW_BYTES, read_items

__all__ = [
    "DEFAULT_MAX_ROW_BYTES",
    "EXPORT_FORMATS",
    "FILE_EXTENSIONS",
    "IMPORT_FORMATS",
    "MAX_EXTERNAL_ID_CHARS",
    "MEDIA_TYPES",
    "ParsedItem",
    "RowError",
    "check_export_format",
    "detect_format",
    "iter_export",
    "read_items",
]
