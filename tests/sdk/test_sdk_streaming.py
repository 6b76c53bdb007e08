"""Imports stream from disk or a generator; exports stream to a file that appears atomically."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from labelvault import errors
from labelvault.sdk import Client
from labelvault.sdk._bodies import CHUNK_BYTES

RESULT = {"created": 3, "updated": 0, "skipped_duplicates": 0, "failed": 0, "errors": []}


class ChunkCounter(httpx.BaseTransport):
    """Reads the request body chunk by chunk, noting what the caller had reported so far."""

    def __init__(self, progress_log: list[int]) -> None:
        self.progress_log = progress_log
        self.chunks: list[bytes] = []
        self.progress_seen_at_chunk: list[int] = []
        self.request: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        for chunk in request.stream:
            self.progress_seen_at_chunk.append(self.progress_log[-1] if self.progress_log else 0)
            self.chunks.append(chunk)
        return httpx.Response(200, json=RESULT)


def client_for(transport: httpx.BaseTransport) -> Client:
    return Client("http://lv.test", "t", transport=transport, backoff_base=0)


def test_import_streams_a_file_in_chunks_as_the_server_reads_it(tmp_path):
    path = tmp_path / "items.jsonl"
    line = json.dumps({"text": "x" * 200}) + "\n"
    path.write_text(line * 5000)  # ~1 MB: several chunks
    size = path.stat().st_size
    progress: list[int] = []
    transport = ChunkCounter(progress)

    with client_for(transport) as client:
        result = client.import_items("p1", path, progress=progress.append)

    assert result == RESULT
    request = transport.request
    assert request.url.path == "/api/v1/projects/p1/items"
    assert dict(request.url.params) == {"on_error": "abort", "on_duplicate": "skip"}
    assert request.headers["Content-Type"] == "application/x-ndjson"
    assert request.headers["Content-Length"] == str(size)
    assert b"".join(transport.chunks) == path.read_bytes()
    # read lazily: several bounded chunks, each read only after the previous one was sent
    assert len(transport.chunks) >= 4
    assert max(len(c) for c in transport.chunks) <= CHUNK_BYTES
    sent_before = [sum(len(c) for c in transport.chunks[:i]) for i in range(len(transport.chunks))]
    assert transport.progress_seen_at_chunk == sent_before
    assert progress[-1] == size


@pytest.mark.parametrize(
    ("name", "format", "content_type"),
    [
        ("items.ndjson", None, "application/x-ndjson"),
        ("items.json", None, "application/json"),
        ("items.csv", None, "text/csv"),
        ("items.parquet", None, "application/vnd.apache.parquet"),
        ("dump.txt", "csv", "text/csv"),
    ],
)
def test_import_content_type_comes_from_extension_or_format(tmp_path, name, format, content_type):
    path = tmp_path / name
    path.write_bytes(b"text\nhello\n")
    transport = ChunkCounter([])
    with client_for(transport) as client:
        client.import_items("p1", str(path), format=format, on_error="skip", on_duplicate="update")
    assert transport.request.headers["Content-Type"] == content_type
    assert dict(transport.request.url.params) == {"on_error": "skip", "on_duplicate": "update"}


def test_import_of_an_unknown_extension_asks_for_a_format(tmp_path):
    path = tmp_path / "items.txt"
    path.write_text("hello\n")
    with client_for(ChunkCounter([])) as client, pytest.raises(errors.InvalidInput) as caught:
        client.import_items("p1", path)
    assert "format" in caught.value.hint


def test_import_of_a_missing_file_raises_before_sending(tmp_path):
    transport = ChunkCounter([])
    with client_for(transport) as client, pytest.raises(FileNotFoundError):
        client.import_items("p1", tmp_path / "nope.jsonl")
    assert transport.request is None


def test_import_rejects_bad_policy_values(tmp_path):
    with client_for(ChunkCounter([])) as client, pytest.raises(errors.InvalidInput) as caught:
        client.import_items("p1", [{"a": 1}], on_error="ignore")
    assert "abort, skip" in caught.value.hint


def test_import_streams_an_iterable_as_ndjson_while_it_is_produced():
    pulled = 0

    def items() -> Iterator[dict]:
        nonlocal pulled
        for n in range(3000):
            pulled += 1
            yield {"id": f"r{n}", "text": "y" * 100}

    progress: list[int] = []
    pulled_at_first_chunk: list[int] = []

    class Watcher(ChunkCounter):
        def handle_request(self, request):
            stream = iter(request.stream)
            first = next(stream)
            pulled_at_first_chunk.append(pulled)
            self.chunks = [first, *stream]
            self.request = request
            return httpx.Response(200, json=RESULT)

    transport = Watcher(progress)
    with client_for(transport) as client:
        client.import_items("p1", items(), progress=progress.append)

    assert transport.request.headers["Content-Type"] == "application/x-ndjson"
    lines = b"".join(transport.chunks).decode().splitlines()
    assert len(lines) == 3000
    assert json.loads(lines[0]) == {"id": "r0", "text": "y" * 100}
    assert pulled_at_first_chunk[0] < 3000  # sending began before the generator was done
    assert progress[-1] == 3000
    assert progress == sorted(progress)


def test_import_of_an_item_that_is_not_json_says_which_one(make_client):
    from datetime import datetime

    client, _ = make_client(lambda r: httpx.Response(200, json=RESULT))
    with pytest.raises(errors.InvalidInput) as caught:
        client.import_items("p1", [{"a": 1}, {"when": datetime(2024, 1, 1)}])
    assert "item 2" in caught.value.detail
    assert caught.value.hint


def test_aborted_import_raises_invalid_input_listing_the_bad_lines(make_client, problem):
    bad = [{"line": 2, "message": "not valid JSON: Expecting value"}]
    client, _ = make_client(
        lambda r: problem(422, "invalid-input", "1 bad row; nothing imported", errors=bad)
    )
    with pytest.raises(errors.InvalidInput) as caught:
        client.import_items("p1", [{"a": 1}])
    assert caught.value.errors == bad


# ---- export --------------------------------------------------------------------------


def export_server(chunks: list[bytes], fail_after: int | None = None):
    def stream() -> Iterator[bytes]:
        for index, chunk in enumerate(chunks):
            if fail_after is not None and index == fail_after:
                raise httpx.ReadError("connection reset by peer")
            yield chunk

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/projects/p1/export"
        return httpx.Response(
            200, content=stream(), headers={"Content-Type": "application/x-ndjson"}
        )

    return handle


def test_export_streams_to_the_target_file(make_client, tmp_path):
    chunks = [b'{"id": "i1"}\n' * 100, b'{"id": "i2"}\n' * 100, b'{"id": "i3"}\n']
    client, seen = make_client(export_server(chunks))
    target = tmp_path / "out.jsonl"
    progress: list[int] = []

    written = client.export("p1", "jsonl", target, progress=progress.append)

    assert written == target
    assert target.read_bytes() == b"".join(chunks)
    assert dict(seen.requests[0].url.params) == {"format": "jsonl"}
    assert progress[-1] == target.stat().st_size
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_interrupted_export_leaves_the_previous_file_untouched(make_client, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous export\n")
    client, _ = make_client(export_server([b"a" * 1000, b"b" * 1000], fail_after=1))

    with pytest.raises(errors.ServiceUnavailable):
        client.export("p1", "jsonl", target)

    assert target.read_text() == "previous export\n"
    assert list(tmp_path.iterdir()) == [target]


def test_export_error_response_creates_no_file(make_client, problem, tmp_path):
    client, _ = make_client(
        lambda r: problem(400, "bad-request", "unknown format 'xml'", "use jsonl, csv or parquet")
    )
    with pytest.raises(errors.BadRequest) as caught:
        client.export("p1", "xml", tmp_path / "out.xml")
    assert caught.value.hint == "use jsonl, csv or parquet"
    assert list(tmp_path.iterdir()) == []
