"""`sogenactif clock`: the sandbox clock shared by every test-mode server on a database."""

from __future__ import annotations

import typer

from sogenactif.cli.batch import DATABASE, open_database

clock_app = typer.Typer(help="Show or move the sandbox clock (test mode only).",
                        no_args_is_help=True)


def _print(offset: float) -> None:
    from sogenactif.server.sandbox import describe

    shown = describe(offset)
    typer.echo(f"now {shown['now']} (business date {shown['businessDate']}), "
               f"offset {shown['offsetSeconds']:g} s")


@clock_app.command("show")
def clock_show(database_url: str = DATABASE) -> None:
    """The sandbox's "now" and its offset from the real time."""
    from sogenactif.server.sandbox import get_offset

    _print(get_offset(open_database(database_url)))


@clock_app.command("advance")
def clock_advance(days: float = typer.Option(0, "--days", help="Days to move forward."),
                  seconds: float = typer.Option(0, "--seconds", help="Seconds to move."),
                  database_url: str = DATABASE) -> None:
    """Move the sandbox clock forward (negative values move it back)."""
    from sogenactif.server.sandbox import DAY, advance

    _print(advance(open_database(database_url), days * DAY + seconds))


@clock_app.command("set")
def clock_set(offset_seconds: float = typer.Argument(..., help="Offset from the real time."),
              database_url: str = DATABASE) -> None:
    """Set the offset from the real time, in seconds (0 is the real time)."""
    from sogenactif.server.sandbox import set_offset

    _print(set_offset(open_database(database_url), offset_seconds))


@clock_app.command("reset")
def clock_reset(database_url: str = DATABASE) -> None:
    """Back to the real time."""
    from sogenactif.server.sandbox import set_offset

    _print(set_offset(open_database(database_url), 0))
