"""Shared pieces of the benchmarks: a labelvault server subprocess, an RSS sampler, a throwaway
PostgreSQL database, percentiles and the machine description written next to every result.

Everything here talks to 127.0.0.1 only and cleans up after itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def labelvault_command() -> list[str]:
    """The installed `labelvault` script, or the same entry point through this interpreter."""
    script = Path(sys.executable).with_name("labelvault")
    if script.exists():
        return [str(script)]
    found = shutil.which("labelvault")
    if found:
        return [found]
    return [sys.executable, "-c", "from labelvault.cli.main import main; main()"]


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of latencies in milliseconds (nearest-rank)."""
    if not values_ms:
        return {"count": 0}
    ordered = sorted(values_ms)
    n = len(ordered)

    def rank(p: float) -> float:
        return round(ordered[min(n - 1, max(0, int(-(-p * n // 100)) - 1))], 3)

    return {
        "count": n,
        "p50_ms": rank(50),
        "p95_ms": rank(95),
        "p99_ms": rank(99),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(sum(ordered) / n, 3),
    }


def machine_info() -> dict[str, Any]:
    import sqlite3

    vm = psutil.virtual_memory()
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(vm.total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    commit = _git("rev-parse", "--short", "HEAD")
    if commit:
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
        info["git_commit"] = commit + ("+dirty" if dirty else "")
    return info


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def write_results(name: str, results: dict[str, Any], path: Path | None = None) -> Path:
    path = path or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def _busy_cpu_s() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def _database_cpu() -> dict[int, float]:
    """CPU seconds of each local PostgreSQL server process, by pid."""
    out: dict[int, float] = {}
    for proc in psutil.process_iter(["name"]):
        if (proc.info.get("name") or "").startswith("postgres"):
            out[proc.pid] = _cpu_s(proc)
    return out


def _database_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots by the processes alive at the end of the interval."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _cpu_s(proc: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        t = proc.cpu_times()
        return float(t.user + t.system)
    return 0.0


class RssSampler:
    """Samples a process tree's resident memory every `interval` seconds from a thread.

    Keeps the overall peak, and per named phase: the peak RSS, wall time, the server's CPU
    seconds, this (client) process's, the local PostgreSQL's, and what every other process
    on the machine used, so a noisy neighbour shows in the results instead of hiding in them.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.process = psutil.Process(pid)
        self.client = psutil.Process()
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self.phase = "startup"
        self.phases: dict[str, dict[str, Any]] = {}
        self._mark = self._snapshot()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def _snapshot(self) -> dict[str, Any]:
        server = _cpu_s(self.process)
        with contextlib.suppress(psutil.Error):
            server += sum(_cpu_s(c) for c in self.process.children(recursive=True))
        return {
            "wall": time.perf_counter(),
            "server": server,
            "client": _cpu_s(self.client),
            "database": _database_cpu(),
            "busy": _busy_cpu_s(),
        }

    def _close_phase(self) -> None:
        now, mark = self._snapshot(), self._mark
        d = {k: now[k] - mark[k] for k in now if k != "database"}
        d["database"] = _database_delta(mark["database"], now["database"])
        entry = self.phases.setdefault(self.phase, self._empty())
        entry["wall_s"] = round(entry["wall_s"] + d["wall"], 2)
        entry["server_cpu_s"] = round(entry["server_cpu_s"] + d["server"], 2)
        entry["client_cpu_s"] = round(entry["client_cpu_s"] + d["client"], 2)
        entry["postgres_cpu_s"] = round(entry["postgres_cpu_s"] + d["database"], 2)
        other = max(0.0, d["busy"] - d["server"] - d["client"] - d["database"])
        entry["other_cpu_s"] = round(entry["other_cpu_s"] + other, 2)
        entry["load1_at_end"] = round(os.getloadavg()[0], 2)
        self._mark = now

    @staticmethod
    def _empty() -> dict[str, Any]:
        return {
            "peak_rss_mb": None,  # None: the phase was too short to sample
            "wall_s": 0.0,
            "server_cpu_s": 0.0,
            "client_cpu_s": 0.0,
            "postgres_cpu_s": 0.0,
            "other_cpu_s": 0.0,
        }

    def set_phase(self, name: str) -> None:
        self._close_phase()
        self.phase = name

    def current(self) -> int:
        total = 0
        with contextlib.suppress(psutil.Error):
            total += self.process.memory_info().rss
            for child in self.process.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.current()
            self.samples += 1
            self.peak = max(self.peak, rss)
            entry = self.phases.setdefault(self.phase, self._empty())
            entry["peak_rss_mb"] = max(entry["peak_rss_mb"] or 0.0, round(rss / 1024**2, 1))
            self._stop.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._close_phase()
        self._stop.set()
        self._thread.join(timeout=2)
        return {
            "peak_rss_mb": round(self.peak / 1024**2, 1),
            "samples": self.samples,
            "interval_s": self.interval,
            "by_phase": self.phases,
        }


@dataclass
class Server:
    """A `labelvault serve` subprocess on 127.0.0.1 with a fresh data directory."""

    data_dir: Path
    db_url: str | None
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    owner_token: str = ""
    org_id: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _db_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)] + (["--db", self.db_url] if self.db_url else [])

    def init(self, owner_email: str) -> dict[str, Any]:
        """`labelvault admin init --json`: database, key file, org and owner token."""
        out = subprocess.run(
            [
                *labelvault_command(),
                "admin",
                "init",
                *self._db_args(),
                "--owner-email",
                owner_email,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"admin init failed ({out.returncode}): {out.stderr.strip()}")
        info: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        self.owner_token, self.org_id = info["token"], int(info["org_id"])
        return info

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(
            [
                *labelvault_command(),
                "serve",
                *self._db_args(),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *(["--workers", str(self.workers)] if self.workers > 1 else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'server.log'}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after 10 s. Safe to call twice."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            text = (self.data_dir / "server.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def throwaway_postgres(base_url: str, prefix: str = "lv_bench") -> Iterator[str]:
    """Create a fresh database next to the one in base_url; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def postgres_version(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


class Profiler:
    """Optional py-spy sampling of the server per phase (collapsed stacks, one file a phase).

    Samples only the thread holding the GIL (--gil): in one Python process that is where the
    CPU goes, so the stacks add up to what limits throughput.
    """

    def __init__(self, pid: int, out_dir: Path | None) -> None:
        self.pid, self.out_dir = pid, out_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.files: list[str] = []
        if out_dir is not None and not shutil.which("py-spy"):
            print("py-spy not found: pip install py-spy (profiling off)", file=sys.stderr)
            self.out_dir = None

    def begin(self, phase: str) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{phase}.txt"
        self.proc = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(self.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--output",
                str(path),
                "--nonblocking",
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.files.append(str(path))
        time.sleep(0.5)

    def end(self) -> None:
        if self.proc is None:
            return
        import signal

        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None
