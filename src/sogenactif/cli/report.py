"""`sogenactif report transactions|operations`: the day's reports as CSV."""

from __future__ import annotations

import sys
from datetime import date

import typer

from sogenactif.cli.batch import DATABASE, open_database

report_app = typer.Typer(help="The Transactions and Operations reports (CSV).",
                         no_args_is_help=True)

DAY = typer.Option(..., "--date", help="Business date YYYY-MM-DD.")
MERCHANT = typer.Option(None, "--merchant", help="merchantId (default: every shop).")
OUTPUT = typer.Option(None, "--output", "-o", help="CSV file (default: standard output).")


def _report(kind: str, day: str, merchant: str | None, output: str | None,
            database_url: str) -> None:
    from sogenactif.server.reports import report_csv

    try:
        date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter("YYYY-MM-DD", param_hint="--date") from None
    text = report_csv(open_database(database_url), kind, day, merchant)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        typer.echo(f"{text.count(chr(10)) - 1} lines written to {output}", err=True)
    else:
        sys.stdout.write(text)


@report_app.command("transactions")
def report_transactions(day: str = DAY, merchant: str | None = MERCHANT,
                        output: str | None = OUTPUT, database_url: str = DATABASE) -> None:
    """Every transaction of the day, accepted and refused."""
    _report("transactions", day, merchant, output, database_url)


@report_app.command("operations")
def report_operations(day: str = DAY, merchant: str | None = MERCHANT,
                      output: str | None = OUTPUT, database_url: str = DATABASE) -> None:
    """Every cash operation of the day, then the day's remittances."""
    _report("operations", day, merchant, output, database_url)
