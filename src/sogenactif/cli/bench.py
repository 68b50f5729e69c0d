"""`sogenactif bench`: throughput and latency of cardOrder against the stack's own ceiling."""

from __future__ import annotations

from pathlib import Path

import typer


def _connections(value: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter("a comma-separated list of numbers, e.g. 1,8,32,64") from None
    if not levels:
        raise typer.BadParameter("at least one concurrency level")
    return levels


def bench_command(
    database_url: str | None = typer.Option(
        None, "--database-url",
        help="postgresql://user@host/db to bench PostgreSQL (a scratch database is created "
             "on that server and dropped); default: a temporary SQLite file."),
    workers: int = typer.Option(1, min=1, max=16, help="Server processes."),
    connections: str = typer.Option("1,8,32,64", help="Concurrency levels (connections)."),
    requests: int = typer.Option(10_000, min=1, max=200_000,
                                 help="Sealed requests per endpoint and level, each sent once."),
    max_seconds: float = typer.Option(20.0, min=0.1, max=600,
                                      help="Upper bound on each level's duration."),
    preload: int = typer.Option(
        0, min=0, max=5_000_000,
        help="After the run, store this many transactions and run cardOrder again."),
    output: Path = typer.Option(Path("bench/results"), help="Where results.json, .md and .png go."),
    durable_seconds: float = typer.Option(2.0, min=0.05, max=30,
                                          help="Duration of each durable-write probe."),
    ceiling: bool = typer.Option(True, help="Also measure the no-database ceiling."),
    keep: bool = typer.Option(False, help="Keep the temporary files (server log, wrk data)."),
) -> None:
    """Start a server on 127.0.0.1, load it with wrk, report throughput and latency."""
    try:
        from sogenactif.bench.load import WrkMissing
        from sogenactif.bench.run import BenchConfig, run_bench
    except ImportError as error:  # matplotlib/psutil come with the bench extra
        raise typer.BadParameter(
            f"{error.name} is missing: install the bench extra "
            "(`uv sync --extra bench` or `pip install sogenactif[bench]`)") from None
    config = BenchConfig(database_url=database_url, workers=workers,
                         connections=_connections(connections), requests=requests,
                         max_seconds=max_seconds, preload=preload, output=output,
                         durable_seconds=durable_seconds, ceiling=ceiling, keep=keep)
    try:
        config.check()
        run_bench(config)
    except (ValueError, WrkMissing) as error:
        raise typer.BadParameter(str(error)) from None
