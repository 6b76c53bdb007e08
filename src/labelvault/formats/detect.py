"""Guess an upload's format from its name, declared content type and first bytes."""

from __future__ import annotations

import re

from labelvault.errors import BadRequest

IMPORT_FORMATS = ("jsonl", "json", "csv", "parquet")

_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_CONTENT_TYPES = {
    "application/x-ndjson": "jsonl",
    "application/ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
    "application/json-lines": "jsonl",
    "application/json": "json",
    "text/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}
_PARQUET_MAGIC = b"PAR1"
_COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"(\xb5/\xfd": "zstd"}
_BOM = b"\xef\xbb\xbf"
_SIGNIFICANT = re.compile(rb"[^ \t\r\n]")
_HINT = (
    "name the file with a .jsonl, .json, .csv or .parquet extension, or send a Content-Type "
    "of application/x-ndjson, application/json, text/csv or application/vnd.apache.parquet"
)


def detect_format(filename: str | None, content_type: str | None, head: bytes) -> str:
    """Return "jsonl", "json", "csv" or "parquet" for an upload.

    `head` is the first bytes of the body (a few KB is plenty). The Parquet magic number
    wins over everything; JSON-like declarations are corrected by the first character
    (`[` is a JSON list, `{` is JSONL), since `.json` files hold either. Raises BadRequest
    when the format cannot be told or the body is compressed.
    """
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    for magic, name in _COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            raise BadRequest(
                f"the body is {name}-compressed; compressed uploads are not supported",
                hint="decompress the file and upload the JSONL, JSON, CSV or Parquet inside",
            )
    declared = _declared_format(filename, content_type)
    text = head[len(_BOM) :] if head.startswith(_BOM) else head
    match = _SIGNIFICANT.search(text)
    first = text[match.start() : match.start() + 1] if match else b""
    if declared == "parquet":
        if len(head) >= len(_PARQUET_MAGIC):
            raise BadRequest(
                "the body was declared as Parquet but does not start with the Parquet "
                "magic number PAR1",
                hint="upload the .parquet file unchanged, or fix its name or Content-Type",
            )
        return "parquet"
    if declared == "csv":
        return "csv"
    if first == b"[":
        return "json"
    if first == b"{":
        return "jsonl"
    if declared is not None:
        return declared
    if not first:
        raise BadRequest("the body is empty: there is nothing to import", hint=_HINT)
    first_line = text.split(b"\n", 1)[0]
    if b"," in first_line and b"\x00" not in first_line:
        return "csv"
    raise BadRequest("cannot tell the format of the uploaded body", hint=_HINT)


def _declared_format(filename: str | None, content_type: str | None) -> str | None:
    if filename:
        name = filename.strip().lower()
        for extension, fmt in _EXTENSIONS.items():
            if name.endswith(extension):
                return fmt
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        return _CONTENT_TYPES.get(media_type)
    return None
