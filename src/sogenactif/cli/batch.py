"""`sogenactif batch run`: the capture batch of a day, with a progress bar."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

batch_app = typer.Typer(help="Capture, expiry and credit batches.", no_args_is_help=True)

DATABASE = typer.Option("sqlite:///sogenactif.db", "--database-url",
                        envvar="SOGENACTIF_DATABASE_URL", help="The server's database.")
LABELS = {"capture": "Captures", "expire": "Expiries", "credit": "Credits"}


def open_database(database_url: str):  # type: ignore[no-untyped-def]
    """The server's database, migrated (safe while servers run)."""
    from sogenactif.server.store import db as dbmod

    try:
        database = dbmod.Database(database_url)
        dbmod.migrate(database)
    except Exception as error:  # the user must learn what to fix, not read a traceback
        raise typer.BadParameter(f"cannot open the database: {error}",
                                 param_hint="--database-url") from None
    return database


def clock_for(database, mode: str):  # type: ignore[no-untyped-def]
    """Test mode follows the sandbox clock (shared offset); production the real time."""
    from sogenactif.server.domain.clock import SystemClock
    from sogenactif.server.runtime import SandboxClock

    return SandboxClock(database) if mode == "test" else SystemClock()


@batch_app.command("run")
def batch_run(
    day: str | None = typer.Option(None, "--date", help="Batch date YYYY-MM-DD "
                                   "(default: today, on the sandbox clock in test mode)."),
    database_url: str = DATABASE,
    mode: str = typer.Option("test", help="test (sandbox clock) or production (real time)."),
    again: bool = typer.Option(False, "--again",
                               help="Run a finished date once more (only what is still due)."),
) -> None:
    """Capture what is due, expire what was not validated in time, credit the refunds.

    Runs once per date across every server and host on the database; a crashed run is taken
    over after 60 s without heartbeat and never captures anything twice.
    """
    from sogenactif.server import batch
    from sogenactif.server.domain.clock import business_date

    if mode not in ("test", "production"):
        raise typer.BadParameter("test or production", param_hint="--mode")
    database = open_database(database_url)
    clock = clock_for(database, mode)
    try:
        batch_day = date.fromisoformat(day) if day else business_date(clock.now())
    except ValueError:
        raise typer.BadParameter("YYYY-MM-DD", param_hint="--date") from None
    console = Console()
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(LABELS.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        result = batch.run(database, batch_day, clock, progress=progress, again=again)
    database.dispose()
    counts = result.counts
    if result.outcome == "RAN":
        console.print(f"batch {result.batch_date}: {counts['captured']} captured, "
                      f"{counts['expired']} expired, {counts['credited']} credited")
    elif result.outcome == "ALREADY_DONE":
        console.print(f"batch {result.batch_date} already done ({counts['captured']} captured, "
                      f"{counts['expired']} expired, {counts['credited']} credited); "
                      "--again runs it once more")
    else:
        console.print(f"batch {result.batch_date}: {result.outcome.lower().replace('_', ' ')}")
        raise typer.Exit(3)
