"""`sogenactif serve`: the Office Server, on SQLite by default."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.panel import Panel

APP = "sogenactif.server.app:create_app_from_environment"


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(7400, help="Port to listen on."),
    database_url: str = typer.Option(
        "sqlite:///sogenactif.db", "--database-url", envvar="SOGENACTIF_DATABASE_URL",
        help="sqlite:///FILE (default, in this folder) or postgresql://user@host/db."),
    workers: int = typer.Option(1, min=1, help="Server processes (PostgreSQL or SQLite)."),
    mode: str = typer.Option("test", help="test (integrator help, test shops) or production."),
    test_cards: str | None = typer.Option(
        None, "--test-cards", help="A TOML file replacing sections of the test-card table."),
    master_key_file: str = typer.Option(
        "sogenactif.masterkey", envvar="SOGENACTIF_MASTER_KEY_FILE",
        help="Where the AES master key lives (created if missing), unless "
             "SOGENACTIF_MASTER_KEY is set."),
    public_url: str | None = typer.Option(
        None, help="The URL shoppers' browsers reach this server at (redirection pages)."),
    batch_cutoff: str = typer.Option(
        "22:00", envvar="SOGENACTIF_BATCH_CUTOFF",
        help="Local (Europe/Paris) time of the daily capture batch run inside the server, "
             "HH:MM, or 'off'."),
    log_level: str = typer.Option("warning", help="uvicorn's log level."),
) -> None:
    """Start the Office Server, print its URL, database and test shops."""
    import uvicorn

    from sogenactif.server.domain.clock import parse_cutoff
    from sogenactif.server.runtime import Mode, Settings, prepare_database
    from sogenactif.server.store.db import describe_url
    from sogenactif.server.store.seed import TEST_SHOPS

    if batch_cutoff != "off":
        try:
            parse_cutoff(batch_cutoff)
        except ValueError:
            raise typer.BadParameter("use HH:MM or off", param_hint="--batch-cutoff") from None
    settings = Settings(database_url=database_url, mode=Mode(mode),
                        master_key_file=master_key_file, test_cards=test_cards,
                        public_url=public_url or f"http://{host}:{port}",
                        batch_cutoff=None if batch_cutoff == "off" else batch_cutoff)
    try:
        database, _vault = prepare_database(settings)
    except RuntimeError as error:  # the user must learn what to fix, not read a traceback
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(2) from None
    except Exception as error:
        typer.secho(f"error: cannot open the database {describe_url(database_url)}: "
                    f"{type(error).__name__}: {str(error).splitlines()[0]}", err=True, fg="red")
        raise typer.Exit(2) from None
    database.dispose()
    _banner(settings, host, port, workers, describe_url(database_url), TEST_SHOPS)
    os.environ.update(settings.to_environment())
    if workers > 1:
        # uvicorn's supervisor only starts and watches the workers: this process becomes
        # a plain one (same pid, signals and output) instead of keeping SQLAlchemy,
        # Alembic and the rest of what start-up imported, about 70 MB, for nothing.
        # libuv's accept loop takes every pending connection at once, so one worker would
        # get most of a burst of new keep-alive connections and keep them: one at a time,
        # with a yield between, lets the other workers take their share.
        os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [
            sys.executable, "-m", "uvicorn", APP, "--factory", "--host", host,
            "--port", str(port), "--workers", str(workers), "--log-level", log_level,
            "--no-access-log", "--http", "httptools", "--loop", "uvloop"])
    uvicorn.run(APP, factory=True, host=host, port=port, workers=1, log_level=log_level,
                access_log=False, http="httptools", loop="uvloop")


def _batch_line(cutoff: str | None) -> str:
    if cutoff is None:
        return "no scheduled batch (run `sogenactif batch run`)"
    return f"daily at {cutoff} Europe/Paris"


def _banner(settings, host, port, workers, database, shops) -> None:  # type: ignore[no-untyped-def]
    console = Console()
    url = f"http://{host}:{port}"
    lines = [f"[bold]URL[/]       {url}/rs-services/v2/{{family}}/{{service}}",
             f"[bold]OpenAPI[/]   {url}/openapi.json",
             f"[bold]Database[/]  {database}",
             f"[bold]Mode[/]      {settings.mode.value}    [bold]Workers[/] {workers}",
             f"[bold]Batch[/]     {_batch_line(settings.batch_cutoff)}"]
    console.print(Panel("\n".join(lines), title="sogenactif Office Server", expand=False))
    if settings.mode.value == "test":
        # Plain lines, never a table: credentials must not be cut on a narrow terminal.
        console.print("[bold]Test shops[/] (merchantId, keyVersion, secret key):")
        for shop in shops:
            console.print(f"  {shop.merchant_id}  {shop.key_version}  {shop.secret_key}"
                          f"    [dim]{shop.name}[/]", soft_wrap=True)
        console.print("Test cards: 4100000000000000 (VISA, accepted), endings 05/51/54… "
                      "refuse; see docs/test-cards.md. Ctrl+C stops.")
