"""`sogenactif shop` and `sogenactif key`: shops and their secret-key versions."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

shop_app = typer.Typer(help="List and add shops.", no_args_is_help=True)
key_app = typer.Typer(help="Create, list and revoke secret-key versions.", no_args_is_help=True)

DATABASE = typer.Option("sqlite:///sogenactif.db", "--database-url",
                        envvar="SOGENACTIF_DATABASE_URL", help="The server's database.")
KEY_FILE = typer.Option("sogenactif.masterkey", envvar="SOGENACTIF_MASTER_KEY_FILE",
                        help="The server's AES master key file.")


def _open(database_url: str, master_key_file: str):  # type: ignore[no-untyped-def]
    from sogenactif.server.runtime import Mode, Settings, prepare_database

    return prepare_database(Settings(database_url=database_url, mode=Mode.PRODUCTION,
                                     master_key_file=master_key_file, seed=False))


@shop_app.command("list")
def shop_list(database_url: str = DATABASE, master_key_file: str = KEY_FILE) -> None:
    """The shops and their key versions."""
    from sogenactif.server.store import repositories as repo

    db, _vault = _open(database_url, master_key_file)
    table = Table("merchantId", "name", "key versions (revoked marked)")
    with db.read() as conn:
        for shop in repo.list_shops(conn):
            versions = ", ".join(f"{v}{' (revoked)' if r else ''}"
                                 for v, _c, r in repo.list_keys(conn, shop.merchant_id))
            table.add_row(shop.merchant_id, shop.name, versions)
    Console().print(table)


@shop_app.command("add")
def shop_add(merchant_id: str = typer.Argument(..., help="15 digits."),
             name: str = typer.Option("My shop", help="A name for people."),
             database_url: str = DATABASE, master_key_file: str = KEY_FILE) -> None:
    """Add a shop with a first secret key (version 1), printed once."""
    from sogenactif.server.store import repositories as repo

    if not (merchant_id.isdigit() and len(merchant_id) == 15):
        raise typer.BadParameter("a merchantId is 15 digits", param_hint="MERCHANT_ID")
    db, vault = _open(database_url, master_key_file)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with db.write() as conn:
        if repo.get_shop(conn, merchant_id) is not None:
            raise typer.BadParameter(f"shop {merchant_id} exists already")
        repo.add_shop(conn, merchant_id, name, now)
        repo.add_key(conn, vault, merchant_id, 1, secret, now)
    typer.echo(f"shop {merchant_id} added; keyVersion 1, secret key (shown once): {secret}")


@key_app.command("add")
def key_add(merchant_id: str, database_url: str = DATABASE,
            master_key_file: str = KEY_FILE) -> None:
    """Create the shop's next key version; the secret is shown once."""
    from sogenactif.server.store import repositories as repo

    db, vault = _open(database_url, master_key_file)
    secret = secrets.token_urlsafe(32)
    with db.write() as conn:
        if repo.get_shop(conn, merchant_id) is None:
            raise typer.BadParameter(f"no shop {merchant_id}")
        version = max((v for v, _c, _r in repo.list_keys(conn, merchant_id)), default=0) + 1
        repo.add_key(conn, vault, merchant_id, version, secret, datetime.now(UTC))
    typer.echo(f"keyVersion {version} for {merchant_id}; secret key (shown once): {secret}")


@key_app.command("revoke")
def key_revoke(merchant_id: str, key_version: int, database_url: str = DATABASE,
               master_key_file: str = KEY_FILE) -> None:
    """Revoke a key version: requests sealed with it get 34 at once."""
    from sogenactif.server.store import repositories as repo

    db, _vault = _open(database_url, master_key_file)
    with db.write() as conn:
        done = repo.revoke_key(conn, merchant_id, key_version, datetime.now(UTC))
    if not done:
        raise typer.BadParameter(f"no active keyVersion {key_version} for {merchant_id}")
    typer.echo(f"keyVersion {key_version} of {merchant_id} revoked")
