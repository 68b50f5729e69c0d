"""`sogenactif demo-shop`: a small merchant site using only the connector."""

from __future__ import annotations

import typer

#: The guide's public test shop (spec §8), seeded by every test-mode server.
GUIDE_MERCHANT_ID = "201040040170001"
GUIDE_SECRET_KEY = "rxSP61eeP_oNi5TxCD7Ngy9YcwC8MLw6OlmFGGcsY54"


def demo_shop_command(
    server: str = typer.Option(..., "--server", help="The Office Server's URL, e.g. "
                               "http://127.0.0.1:7400 (or a real platform's test URL)."),
    host: str = typer.Option("127.0.0.1", help="Address the shop listens on."),
    port: int = typer.Option(7500, help="Port the shop listens on."),
    merchant_id: str = typer.Option(GUIDE_MERCHANT_ID, help="The shop's merchantId."),
    secret_key: str = typer.Option(GUIDE_SECRET_KEY, envvar="SOGENACTIF_SECRET_KEY",
                                   help="The shop's secret key (default: the guide's test "
                                        "shop, public)."),
    key_version: int = typer.Option(1, help="The key's keyVersion."),
) -> None:
    """Run the demo shop: one item, paid by card, with 3-D Secure or with a provider."""
    import uvicorn

    from sogenactif.demo.app import create_shop

    typer.echo(f"Demo shop on http://{host}:{port}/ (merchant {merchant_id}, server {server})")
    uvicorn.run(create_shop(server, merchant_id, secret_key, key_version), host=host,
                port=port, log_level="warning", access_log=False)
