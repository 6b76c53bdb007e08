"""Core platform benchmark: import, queue (`next`), submit, export and server memory.

Starts `labelvault serve` as a subprocess on 127.0.0.1 (fresh SQLite data dir, or a fresh
PostgreSQL database created next to the one given and dropped at the end), drives it over
HTTP (httpx for the streamed import and export, a lean keep-alive client for the annotator
loops), prints JSON results and writes them to bench/results/core-<backend>.json.

    python bench/core.py                      # SQLite, 1M items
    python bench/core.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/core.py --quick              # small smoke run (< 60 s)

All load is bounded in count and time and stops by itself; the server is always stopped.
"""

from __future__ import annotations

import argparse
import http.client
import shlex
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Profiler,
    RssSampler,
    Server,
    machine_info,
    percentiles,
    postgres_version,
    throwaway_postgres,
    write_results,
)

API = "/api/v1"
OPTIONS = ("pos", "neg", "neu")
SCHEMA = {"fields": [{"name": "sentiment", "type": "single_choice", "options": list(OPTIONS)}]}
TEXTS = [
    t.encode()
    for t in (
        "the delivery was quick and the product matches the photos; would order again",
        "battery life is shorter than advertised, and support took a week to answer",
        "works as expected, nothing special, the manual could be clearer on setup",
        "arrived broken in a dented box; the replacement was fine and came promptly",
        "great value for the price, though the strap feels cheap after a few weeks",
        "the app keeps logging me out and the sync loses about half of my notes",
        "exactly what I needed for the kitchen; easy to clean and it stores flat",
        "sound is muddy at high volume but it is fine for podcasts and phone calls",
    )
]
TARGETS = {
    "import_items_per_s": 50_000,
    "next_p99_ms": 15.0,
    "submit_answers_per_s": 1_000,
    "export_1m_s": 15.0,
    "peak_rss_mb": 400.0,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def label_for(external_id: str) -> str:
    """The answer every path gives an item, so the export can be checked against it."""
    return OPTIONS[int(external_id[1:]) % len(OPTIONS)]


# --------------------------------------------------------------------------- setup


@dataclass
class Annotator:
    user_id: int
    email: str
    token: str


def owner_client(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.owner_token}"},
        timeout=httpx.Timeout(600.0, connect=10.0),
    )


def check(r: httpx.Response, status: int = 200) -> Any:
    if r.status_code != status:
        raise RuntimeError(
            f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:500]}"
        )
    return r.json() if r.content else None


def create_project(owner: httpx.Client, name: str) -> dict[str, Any]:
    return check(
        owner.post(f"{API}/projects", json={"name": name, "schema": SCHEMA, "overlap": 1}), 201
    )


def invite_annotators(owner: httpx.Client, n: int, project_ids: list[int]) -> list[Annotator]:
    people = []
    for i in range(n):
        body = check(
            owner.post(
                f"{API}/users", json={"email": f"annotator{i}@bench.test", "org_role": "member"}
            ),
            201,
        )
        people.append(Annotator(body["user_id"], body["email"], body["token"]))
        for pid in project_ids:
            check(
                owner.put(
                    f"{API}/projects/{pid}/members/{body['user_id']}", json={"role": "annotator"}
                )
            )
    return people


# --------------------------------------------------------------------------- import


def ndjson_chunks(n: int, marks: dict[str, float], per_chunk: int = 2000) -> Iterator[bytes]:
    """n small items ({"id", "text" of ~80 chars}) as NDJSON, generated while uploading."""
    texts = TEXTS
    k = len(texts)
    size = 0
    for lo in range(0, n, per_chunk):
        hi = min(n, lo + per_chunk)
        chunk = b"".join(
            b'{"id":"i%d","text":"#%d %s"}\n' % (i, i, texts[i % k]) for i in range(lo, hi)
        )
        size += len(chunk)
        yield chunk
    marks["body_sent"] = time.perf_counter()
    marks["body_bytes"] = size


def bench_import(owner: httpx.Client, project_id: int, n: int) -> dict[str, Any]:
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    r = owner.post(
        f"{API}/projects/{project_id}/items",
        content=ndjson_chunks(n, marks),
        headers={"Content-Type": "application/x-ndjson"},
    )
    t1 = time.perf_counter()
    body = check(r)
    if body["created"] != n or body["failed"]:
        raise RuntimeError(f"import stored {body} instead of {n} new items")
    seconds = t1 - t0
    sent = marks.get("body_sent", t1)
    return {
        "items": n,
        "seconds": round(seconds, 3),
        "items_per_s": round(n / seconds),
        "phases_s": {
            "upload_and_spool": round(sent - t0, 3),
            "parse_encrypt_insert_commit": round(t1 - sent, 3),
        },
        "body_mb": round(marks.get("body_bytes", 0) / 1024**2, 1),
        "response": {k: v for k, v in body.items() if k != "errors"},
    }


# --------------------------------------------------------------------------- queue


@dataclass
class LoopStats:
    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    acks: list[tuple[str, str, str]] = field(default_factory=list)  # (external_id, who, value)
    errors: list[str] = field(default_factory=list)
    no_work: int = 0
    retries: int = 0


class KeepAliveClient:
    """A thin HTTP/1.1 keep-alive client (standard library) for the annotator loops.

    httpx costs about four times as much client CPU per request; on a 2-core machine the
    load generator's CPU is taken from the server, so the loops use this by default
    (`--client httpx` switches). Returns (status, body); reconnects after a dropped
    connection and raises ConnectionError so the caller can retry.
    """

    def __init__(self, url: str, token: str) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 80
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        all_headers = {**self.headers, **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError) as exc:
            self.conn.close()
            self.conn = self._connect()
            raise ConnectionError(str(exc)) from exc

    def close(self) -> None:
        self.conn.close()


class HttpxClient:
    """The same interface over httpx (`--client httpx`)."""

    def __init__(self, url: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0, connect=10.0),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        all_headers = dict(headers or {})
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            r = self.client.request(method, path, content=body, headers=all_headers)
        except httpx.TransportError as exc:
            raise ConnectionError(str(exc)) from exc
        return r.status_code, r.content

    def close(self) -> None:
        self.client.close()


CLIENTS = {"stdlib": KeepAliveClient, "httpx": HttpxClient}


def annotate_loop(
    url: str,
    project_id: int,
    who: Annotator,
    max_answers: int,
    deadline_s: float,
    start: threading.Barrier,
    stats: LoopStats,
    client_kind: str,
) -> None:
    """next -> submit until max_answers, the deadline or no work; a submit that fails in
    transport is retried with the same Idempotency-Key."""
    client = CLIENTS[client_kind](url, who.token)
    try:
        next_path = f"{API}/projects/{project_id}/next"
        client.request("GET", f"{API}/health")  # open the connection before the clock starts
        start.wait()
        deadline = time.perf_counter() + deadline_s
        done = 0
        while done < max_answers and time.perf_counter() < deadline:
            if len(stats.errors) > 20:
                break
            t0 = time.perf_counter()
            try:
                status, body = client.request("GET", next_path)
            except ConnectionError as exc:
                stats.errors.append(f"next: {exc}")
                continue
            t1 = time.perf_counter()
            if status == 204:
                stats.no_work += 1
                break
            if status != 200:
                stats.errors.append(f"next {status}: {body[:200]!r}")
                continue
            stats.next_ms.append((t1 - t0) * 1000)
            task = orjson.loads(body)
            ext = task["item"]["external_id"]
            value = label_for(ext)
            answer = orjson.dumps({"values": {"sentiment": value}})
            key = {"Idempotency-Key": uuid.uuid4().hex}
            submit_path = f"{API}/assignments/{task['assignment_id']}/submit"
            status, body, t2, t3 = 0, b"transport", 0.0, 0.0
            for _attempt in range(3):
                t2 = time.perf_counter()
                try:
                    status, body = client.request("POST", submit_path, answer, key)
                except ConnectionError:
                    stats.retries += 1
                    continue
                t3 = time.perf_counter()
                break
            if status != 200:
                stats.errors.append(f"submit {status}: {body[:200]!r}")
                continue
            stats.submit_ms.append((t3 - t2) * 1000)
            stats.acks.append((ext, who.email, value))
            done += 1
    finally:
        client.close()


def run_annotators(
    url: str,
    project_id: int,
    people: list[Annotator],
    per_annotator: int,
    seconds: float,
    client_kind: str,
) -> tuple[list[LoopStats], float]:
    stats = [LoopStats() for _ in people]
    barrier = threading.Barrier(len(people) + 1)
    threads = [
        threading.Thread(
            target=annotate_loop,
            name=f"annotator-{i}",
            args=(url, project_id, who, per_annotator, seconds, barrier, st, client_kind),
        )
        for i, (who, st) in enumerate(zip(people, stats, strict=True))
    ]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return stats, time.perf_counter() - t0


def summarize_loop(stats: list[LoopStats], wall: float) -> dict[str, Any]:
    next_ms = [x for s in stats for x in s.next_ms]
    submit_ms = [x for s in stats for x in s.submit_ms]
    answers = sum(len(s.acks) for s in stats)
    errors = [e for s in stats for e in s.errors]
    return {
        "clients": len(stats),
        "seconds": round(wall, 3),
        "answers": answers,
        "answers_per_s": round(answers / wall, 1) if wall else None,
        "next": percentiles(next_ms),
        "submit": percentiles(submit_ms),
        "errors": len(errors),
        "first_errors": errors[:5],
        "transport_retries": sum(s.retries for s in stats),
        "clients_out_of_work": sum(s.no_work for s in stats),
    }


def health_baseline(url: str, n: int) -> dict[str, Any]:
    """Latency floor of the HTTP stack (client + uvicorn + FastAPI, no database)."""
    with httpx.Client(base_url=url) as client:
        client.get(f"{API}/health")
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(f"{API}/health")
            lat.append((time.perf_counter() - t0) * 1000)
    return percentiles(lat)


# --------------------------------------------------------------------------- export


def seed_answers(
    data_dir: Path,
    db_url: str | None,
    org_id: int,
    project_id: int,
    schema_version: int,
    people: list[Annotator],
    batch: int = 20_000,
) -> dict[str, Any]:
    """Answer every still-open item once, in-process, by bulk insert.

    Same rows a submit writes (status submitted, answer AES-GCM encrypted with the project
    key and the same associated data), round-robin over the annotators, but without one
    audit entry per answer: this only builds the data the export benchmark reads.
    """
    from sqlalchemy import func, insert, select, text, update

    from labelvault.config import Settings
    from labelvault.crypto import aad_many
    from labelvault.services import setup
    from labelvault.storage.database import now_ms
    from labelvault.storage.tables import assignments, items

    platform = setup.prepare(Settings(data_dir=data_dir, db_url=db_url))
    t0 = time.perf_counter()
    seeded = 0
    try:
        after = 0
        while True:
            with platform.db.write() as conn:
                rows = conn.execute(
                    select(items.c.id, items.c.external_id)
                    .where(
                        items.c.project_id == project_id,
                        items.c.slots_used == 0,
                        items.c.id > after,
                    )
                    .order_by(items.c.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                n = len(rows)
                if conn.dialect.name == "postgresql":
                    ids = [
                        int(r[0])
                        for r in conn.execute(
                            text(
                                "SELECT nextval(pg_get_serial_sequence('assignments', 'id')) "
                                "FROM generate_series(1, :n)"
                            ),
                            {"n": n},
                        )
                    ]
                else:
                    top = conn.execute(
                        select(func.coalesce(func.max(assignments.c.id), 0))
                    ).scalar_one()
                    ids = list(range(int(top) + 1, int(top) + 1 + n))
                key = platform.data_key(conn, project_id)
                blobs = key.encrypt_many(
                    [orjson.dumps({"sentiment": label_for(r[1])}) for r in rows],
                    aad_many(project_id, ids, "answer"),
                )
                now = now_ms()
                conn.execute(
                    insert(assignments),
                    [
                        {
                            "id": aid,
                            "org_id": org_id,
                            "project_id": project_id,
                            "item_id": r[0],
                            "annotator_id": people[(seeded + j) % len(people)].user_id,
                            "status": "submitted",
                            "leased_at": now,
                            "lease_expires_at": now + 600_000,
                            "submitted_at": now,
                            "schema_version": schema_version,
                            "answer": blob,
                            "idempotency_key": None,
                        }
                        for j, (aid, r, blob) in enumerate(zip(ids, rows, blobs, strict=True))
                    ],
                )
                conn.execute(
                    update(items)
                    .where(
                        items.c.project_id == project_id,
                        items.c.slots_used == 0,
                        items.c.id.between(rows[0][0], rows[-1][0]),
                    )
                    .values(slots_used=1)
                )
                after = int(rows[-1][0])
                seeded += n
    finally:
        platform.close()
    seconds = time.perf_counter() - t0
    return {
        "method": "in-process bulk insert into the assignments table (answers AES-256-GCM "
        "encrypted with the project key, same associated data as a submit; no "
        "per-answer audit entry)",
        "answers": seeded,
        "seconds": round(seconds, 2),
    }


def bench_export(owner: httpx.Client, project_id: int, fmt: str, path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    first = None
    size = 0
    with owner.stream("GET", f"{API}/projects/{project_id}/export", params={"format": fmt}) as r:
        if r.status_code != 200:
            r.read()
            check(r)
        with path.open("wb") as out:
            for chunk in r.iter_raw(1 << 20):
                if first is None:
                    first = time.perf_counter()
                size += len(chunk)
                out.write(chunk)
    seconds = time.perf_counter() - t0
    return {
        "format": fmt,
        "seconds": round(seconds, 3),
        "first_byte_s": round((first or t0) - t0, 3),
        "mb": round(size / 1024**2, 1),
    }


def verify_jsonl(path: Path, acked: dict[str, tuple[str, str]], items: int) -> dict[str, Any]:
    """Every HTTP-acknowledged answer is in the export exactly once, with its annotator and
    value; with overlap 1 no item carries two answers."""
    records = annotations = duplicated_items = unanswered = mismatched = 0
    found = 0
    with path.open("rb") as f:
        for line in f:
            rec = orjson.loads(line)
            records += 1
            anns = [a for a in rec["annotations"] if a["status"] == "submitted"]
            annotations += len(anns)
            duplicated_items += len(anns) > 1
            unanswered += not anns
            want = acked.get(rec["external_id"])
            if want is not None and anns:
                found += 1
                if (anns[0]["annotator"], anns[0]["values"]["sentiment"]) != want:
                    mismatched += 1
    return {
        "records": records,
        "annotations": annotations,
        "items_expected": items,
        "http_acknowledged": len(acked),
        "http_acknowledged_found": found,
        "lost": len(acked) - found,
        "mismatched": mismatched,
        "items_with_two_or_more_answers": duplicated_items,
        "items_without_answer": unanswered,
        "ok": records == items
        and found == len(acked)
        and not mismatched
        and not duplicated_items
        and not unanswered,
    }


def verify_parquet(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    return {"rows": meta.num_rows, "row_groups": meta.num_row_groups}


# --------------------------------------------------------------------------- targets


def add_cpu_costs(results: dict[str, Any]) -> None:
    """Server CPU per unit of work: comparable across runs even when the machine is busy."""
    phases = results["server"]["by_phase"]
    for key, phase in (("next_latency", "next"), ("submit_throughput", "submit")):
        if key in results and phase in phases and results[key]["answers"]:
            cpu = phases[phase]["server_cpu_s"]
            results[key]["server_cpu_ms_per_answer"] = round(
                cpu * 1000 / results[key]["answers"], 2
            )
    for entry in results.get("import") or []:
        phase = phases.get(f"import-{entry['items']}")
        if phase:
            entry["server_cpu_us_per_item"] = round(phase["server_cpu_s"] * 1e6 / entry["items"], 1)
    export = results.get("export") or {}
    for fmt in ("jsonl", "parquet"):
        phase = phases.get(f"export-{fmt}")
        if fmt in export and phase and export.get("annotations"):
            export[fmt]["server_cpu_s"] = phase["server_cpu_s"]


def evaluate(results: dict[str, Any], backend: str, full_scale: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(
        name: str, measured: float | None, target: float, higher_is_better: bool, note: str = ""
    ) -> None:
        ok = (
            None
            if measured is None
            else (measured >= target if higher_is_better else measured <= target)
        )
        out.append(
            {
                "target": name,
                "goal": f"{'>=' if higher_is_better else '<='} {target:g}",
                "measured": measured,
                "pass": ok,
                "at_target_scale": full_scale,
                **({"note": note} if note else {}),
            }
        )

    imports = results.get("import") or []
    if imports:
        add(
            "import_items_per_s",
            imports[-1]["items_per_s"],
            TARGETS["import_items_per_s"],
            True,
            "" if backend == "sqlite" else "the target is stated for SQLite",
        )
    nxt = results.get("next_latency")
    add("next_p99_ms", nxt["next"].get("p99_ms") if nxt else None, TARGETS["next_p99_ms"], False)
    sub = results.get("submit_throughput")
    add(
        "submit_answers_per_s",
        sub["answers_per_s"] if sub else None,
        TARGETS["submit_answers_per_s"],
        True,
    )
    if sub:
        zero = sub.get("verified_zero_lost_or_duplicated")
        out.append(
            {
                "target": "submit_zero_lost_or_duplicated",
                "goal": "true",
                "measured": zero,
                "pass": zero,
                "at_target_scale": full_scale,
            }
        )
    exp = results.get("export")
    best = None
    if exp:
        times = [exp[f]["seconds"] for f in ("jsonl", "parquet") if f in exp]
        best = min(times) if times else None
    add("export_1m_s", best, TARGETS["export_1m_s"], False, "best of JSONL and Parquet")
    add("peak_rss_mb", results["server"]["peak_rss_mb"], TARGETS["peak_rss_mb"], False)
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--db",
        default="sqlite",
        help="'sqlite' (default: fresh temp data dir) or a PostgreSQL URL; a fresh "
        "database lv_bench_<random> is created next to it and dropped after",
    )
    p.add_argument("--items", type=int, default=1_000_000, help="items in the main project")
    p.add_argument(
        "--small-items",
        type=int,
        default=100_000,
        help="items of the first (smaller) import; 0 to skip",
    )
    p.add_argument("--annotators", type=int, default=8)
    p.add_argument(
        "--per-annotator",
        type=int,
        default=4000,
        help="answers per annotator in the next-latency phase",
    )
    p.add_argument(
        "--submit-per-client",
        type=int,
        default=4000,
        help="answers per client in the submit-throughput phase",
    )
    p.add_argument("--seconds", type=float, default=30.0, help="time cap of each queue phase")
    p.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="stdlib",
        help="HTTP client of the annotator loops (stdlib keep-alive: least client "
        "CPU; httpx: about 4x more)",
    )
    p.add_argument("--skip-export", action="store_true")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (`labelvault serve --workers`, PostgreSQL only)",
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 5k items, a few hundred requests (< 60 s)"
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="directory for py-spy raw stacks of the server, one file per phase",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp data dir")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results file (default: bench/results/core-<backend>[-quick].json)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.items, args.small_items = 5_000, 1_000
        args.per_annotator = args.submit_per_client = 40
        args.seconds = min(args.seconds, 10.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backend = "sqlite" if args.db == "sqlite" else "postgresql"
    results: dict[str, Any] = {
        "benchmark": "core",
        "backend": backend,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "quick": args.quick,
        "load_client": args.client,
        "items": args.items,
        "machine": machine_info(),
    }
    tmp = Path(tempfile.mkdtemp(prefix="lv-bench-"))
    try:
        if backend == "sqlite":
            run(args, results, tmp, None)
        else:
            with throwaway_postgres(args.db) as url:
                results["postgresql"] = postgres_version(url)
                run(args, results, tmp, url)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    name = f"core-{backend}" + ("-quick" if args.quick else "")
    path = write_results(name, results, args.out)
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    log(f"results written to {path}")
    failed = [t["target"] for t in results["targets"] if t["pass"] is False]
    log("targets missed: " + (", ".join(failed) if failed else "none"))
    return 0


def run(args: argparse.Namespace, results: dict[str, Any], tmp: Path, db_url: str | None) -> None:
    server = Server(data_dir=tmp / "data", db_url=db_url, workers=args.workers)
    server.data_dir.mkdir(parents=True)
    server.init("owner@bench.test")
    sampler = None
    profiler = None
    try:
        server.start()
        sampler = RssSampler(server.pid).start()
        profiler = Profiler(server.pid, args.profile)
        log(f"server pid {server.pid} at {server.url} ({results['backend']})")
        with owner_client(server) as owner:
            sampler.set_phase("setup")
            main_project = create_project(owner, f"bench-{args.items}")
            pid = int(main_project["id"])
            project_ids = [pid]
            people = invite_annotators(owner, args.annotators, project_ids)

            imports = []
            if args.small_items:
                small = create_project(owner, f"bench-{args.small_items}")
                sampler.set_phase(f"import-{args.small_items}")
                profiler.begin("import-small")
                imports.append(bench_import(owner, int(small["id"]), args.small_items))
                profiler.end()
                log(f"import {args.small_items}: {imports[-1]['items_per_s']} items/s")
            sampler.set_phase(f"import-{args.items}")
            profiler.begin("import")
            imports.append(bench_import(owner, pid, args.items))
            profiler.end()
            log(f"import {args.items}: {imports[-1]['items_per_s']} items/s")
            results["import"] = imports

            sampler.set_phase("health-and-warmup")
            results["http_floor_health"] = health_baseline(server.url, 300)
            acked: dict[str, tuple[str, str]] = {}
            dupes = 0

            def collect(stats: list[LoopStats]) -> None:
                nonlocal dupes
                for st in stats:
                    for ext, who, value in st.acks:
                        dupes += ext in acked
                        acked[ext] = (who, value)

            warm, _ = run_annotators(server.url, pid, people, 10, 10.0, args.client)
            collect(warm)
            sampler.set_phase("next")
            profiler.begin("next")
            stats, wall = run_annotators(
                server.url, pid, people, args.per_annotator, args.seconds, args.client
            )
            profiler.end()
            collect(stats)
            results["next_latency"] = summarize_loop(stats, wall)
            log(
                f"next p50/p99 {results['next_latency']['next'].get('p50_ms')}/"
                f"{results['next_latency']['next'].get('p99_ms')} ms"
            )

            sampler.set_phase("submit")
            profiler.begin("submit")
            stats, wall = run_annotators(
                server.url, pid, people, args.submit_per_client, args.seconds, args.client
            )
            profiler.end()
            collect(stats)
            sub = summarize_loop(stats, wall)
            sampler.set_phase("verify-counts")
            counts = check(owner.get(f"{API}/projects/{pid}"))["counts"]
            sub["check_counts"] = {
                "http_acknowledged_total": len(acked) + dupes,
                "distinct_items_acknowledged": len(acked),
                "items_handed_out_twice": dupes,
                "server_annotations": counts["annotations"],
            }
            sub["verified_zero_lost_or_duplicated"] = dupes == 0 and counts["annotations"] == len(
                acked
            )
            results["submit_throughput"] = sub
            log(f"submit {sub['answers_per_s']} answers/s, counts {sub['check_counts']}")

            if not args.skip_export:
                sampler.set_phase("seed")
                seed = seed_answers(
                    server.data_dir,
                    db_url,
                    server.org_id,
                    pid,
                    int(main_project["schema_version"]),
                    people,
                )
                log(f"seeded {seed['answers']} answers in {seed['seconds']} s")
                export: dict[str, Any] = {"seed": seed, "annotations": seed["answers"] + len(acked)}
                for fmt in ("jsonl", "parquet"):
                    sampler.set_phase(f"export-{fmt}")
                    profiler.begin(f"export-{fmt}")
                    path = tmp / f"export.{fmt}"
                    export[fmt] = bench_export(owner, pid, fmt, path)
                    profiler.end()
                    sampler.set_phase(f"after-export-{fmt}")
                    log(f"export {fmt}: {export[fmt]['seconds']} s")
                    if fmt == "jsonl":
                        export[fmt]["verify"] = verify_jsonl(path, acked, args.items)
                        sub["verified_through_export"] = export[fmt]["verify"]["ok"]
                        sub["verified_zero_lost_or_duplicated"] = (
                            sub["verified_zero_lost_or_duplicated"] and export[fmt]["verify"]["ok"]
                        )
                    else:
                        export[fmt]["verify"] = verify_parquet(path)
                    path.unlink()
                results["export"] = export
    except Exception:
        if server.process is not None:
            log("server log tail:\n" + server.log_tail())
        raise
    finally:
        if profiler is not None:
            profiler.end()
            results["profiles"] = profiler.files or None
        if sampler is not None:  # before the server stops, so its CPU times are readable
            results["server"] = {
                "pid_sampled": server.pid,
                "workers": args.workers,
                **sampler.stop(),
            }
            add_cpu_costs(results)
        server.stop()
    results["targets"] = evaluate(
        results, results["backend"], full_scale=not args.quick and args.items >= 1_000_000
    )


if __name__ == "__main__":
    raise SystemExit(main())
