"""`sogenactif`: the command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from sogenactif.cli import batch, bench, clock, demo, report, seal, serve, shops

app = typer.Typer(
    name="sogenactif",
    help="A self-hostable Sogenactif Office Server JSON platform and its tools.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("seal")(seal.seal_command)
app.command("serve")(serve.serve_command)
app.command("bench")(bench.bench_command)
app.add_typer(shops.shop_app, name="shop")
app.add_typer(shops.key_app, name="key")
app.command("demo-shop")(demo.demo_shop_command)
app.add_typer(batch.batch_app, name="batch")
app.add_typer(clock.clock_app, name="clock")
app.add_typer(report.report_app, name="report")


def main() -> None:
    app()
