"""A whole bench run: baselines, the server, the load levels, the preload, the report."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import make_url

from sogenactif.bench import bodies, durable, load
from sogenactif.bench.preload import MAX_ROWS, preload
from sogenactif.bench.report import (
    CARD_ORDER,
    CARD_ORDER_GROWN,
    CEILING,
    Report,
    markdown,
    plot,
    print_report,
    write_json,
)
from sogenactif.bench.server import BenchServer
from sogenactif.server.store.db import describe_url, is_sqlite, normalise_url

MAX_REQUESTS = 200_000
WARMUP = 400


@dataclass(frozen=True)
class BenchConfig:
    database_url: str | None = None  # None: a temporary SQLite file
    workers: int = 1
    connections: tuple[int, ...] = (1, 8, 32, 64)
    requests: int = 10_000  # per endpoint and level
    max_seconds: float = 20.0  # per endpoint and level
    preload: int = 0
    output: Path = Path("bench/results")
    durable_seconds: float = 2.0
    ceiling: bool = True
    keep: bool = False  # keep the temporary directory (server log, wrk files)

    def check(self) -> None:
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise ValueError(f"--requests must be within 1..{MAX_REQUESTS:,}")
        if not self.connections or any(not 1 <= c <= load.MAX_CONNECTIONS
                                        for c in self.connections):
            raise ValueError(f"--connections must be within 1..{load.MAX_CONNECTIONS}")
        if max(self.connections) > self.requests:
            raise ValueError("--requests must be at least the largest --connections")
        if not 0 < self.max_seconds <= load.MAX_SECONDS:
            raise ValueError(f"--max-seconds must be within 0..{load.MAX_SECONDS}")
        if not 0 <= self.preload <= MAX_ROWS:
            raise ValueError(f"--preload must be within 0..{MAX_ROWS:,}")
        if not 1 <= self.workers <= 16:
            raise ValueError("--workers must be within 1..16")


def machine() -> dict[str, Any]:
    frequency = psutil.cpu_freq()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(), "cpu_model": model or platform.processor(),
        "cpu_mhz": round(frequency.current) if frequency else None,
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A fresh database on the given PostgreSQL server, dropped afterwards."""
    parsed = make_url(normalise_url(url))
    name = f"sogenactif_bench_{secrets.token_hex(4)}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Bench:
    def __init__(self, config: BenchConfig, console: Console) -> None:
        self.config = config
        self.console = console
        self.prefix = bodies.run_prefix()
        self.batch = 0

    def _bodies(self, count: int) -> list[bytes]:
        self.batch += 1
        return bodies.card_order_bodies(count, f"{self.prefix}{self.batch:03d}")

    def run(self) -> Report:
        config = self.config
        config.check()
        load.wrk_path()
        workdir = Path(tempfile.mkdtemp(prefix="sogenactif-bench-"))
        try:
            if config.database_url is None or is_sqlite(config.database_url):
                url = config.database_url or f"sqlite:///{workdir / 'bench.db'}"
                return self._run(url, workdir)
            with scratch_postgres(config.database_url) as url:
                return self._run(url, workdir)
        finally:
            if config.keep:
                self.console.print(f"Files kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, url: str, workdir: Path) -> Report:
        config = self.config
        backend = "sqlite" if is_sqlite(url) else "postgresql"
        report = Report(machine(), {
            "backend": backend, "database": describe_url(url), "workers": config.workers,
            "connections": list(config.connections), "requests": config.requests,
            "max_seconds": config.max_seconds, "preload": config.preload,
            "command": "sogenactif bench " + " ".join(self._arguments()),
        }, {})
        self.console.print(f"Durable-write rate of this machine ({config.durable_seconds:g} s "
                           "each)…")
        report.durable["fsync"] = durable.fsync_rate(workdir, config.durable_seconds)
        report.durable["sqlite_commit"] = durable.sqlite_commit_rate(workdir,
                                                                     config.durable_seconds)
        if backend == "postgresql":
            libpq = make_url(url).set(drivername="postgresql").render_as_string(
                hide_password=False)
            report.durable["postgresql_commit"] = durable.postgres_commit_rate(
                libpq, config.durable_seconds)
        targets = [(CEILING, bodies.CEILING_PATH)] if config.ceiling else []
        targets.append((CARD_ORDER, bodies.CARD_ORDER_PATH))
        self._levels(report, url, workdir, targets)
        if config.preload:
            with self._progress() as progress:
                task = progress.add_task(f"preload {config.preload:,}", total=config.preload)
                start = time.perf_counter()
                preload(url, workdir / "server" / "sogenactif.masterkey", config.preload,
                        lambda n: progress.advance(task, n))
                report.preload_seconds = time.perf_counter() - start
            self._levels(report, url, workdir,
                         [(CARD_ORDER_GROWN, bodies.CARD_ORDER_PATH)])
        return report

    def _levels(self, report: Report, url: str, workdir: Path,
                targets: list[tuple[str, str]]) -> None:
        config = self.config
        server = BenchServer(url, workdir / "server", workers=config.workers).start()
        try:
            with self._progress() as progress:
                for _target, path in targets:  # warm-up: imports, pools, caches; not reported
                    warm = self._bodies(max(WARMUP, 8))
                    task = progress.add_task(f"warm-up {path.rsplit('/', 1)[1]}",
                                             total=len(warm))
                    load.run_level(server.url, path, "warmup", warm, 8, workdir,
                                   max_seconds=config.max_seconds, expected=bodies.EXPECTED,
                                   progress=lambda n, t=task: progress.advance(t, n))
                for connections in config.connections:
                    for target, path in targets:
                        batch = self._bodies(config.requests)
                        task = progress.add_task(f"{target} × {connections}",
                                                 total=len(batch))
                        cpu = server.cpu_seconds()
                        result = load.run_level(
                            server.url, path, target, batch, connections, workdir,
                            max_seconds=config.max_seconds, expected=bodies.EXPECTED,
                            progress=lambda n, t=task: progress.advance(t, n),
                            sample=server.rss_mb)
                        result.server_cpu_seconds = server.cpu_seconds() - cpu
                        progress.update(task, total=result.answered,
                                        completed=result.answered)
                        report.levels.append(result)
        finally:
            server.stop()
        if any(r.errors for r in report.levels):
            self.console.print("[yellow]Errors: the server log follows (last lines)[/]")
            self.console.print(server.log()[-3000:], markup=False)

    def _progress(self) -> Progress:
        return Progress(TextColumn("{task.description:<24}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                        transient=False)

    def _arguments(self) -> list[str]:
        config = self.config
        out = []
        if config.database_url:
            out += ["--database-url",
                    make_url(config.database_url).render_as_string(hide_password=True)]
        out += ["--workers", str(config.workers),
                "--connections", ",".join(str(c) for c in config.connections),
                "--requests", str(config.requests), "--max-seconds", f"{config.max_seconds:g}"]
        if config.preload:
            out += ["--preload", str(config.preload)]
        return out


def run_bench(config: BenchConfig, console: Console | None = None) -> Report:
    """Run, print the table, write results.json and results.png into ``config.output``."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    report = Bench(config, console).run()
    config.output.mkdir(parents=True, exist_ok=True)
    write_json(report, config.output / "results.json")
    (config.output / "results.md").write_text(markdown(report))
    plot(report, config.output / "results.png")
    print_report(report, console)
    console.print(f"Written: {config.output}/results.json, results.md and results.png")
    return report
