"""The test shops every test-mode server starts with (the guide's, spec §8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from sogenactif.server.store import repositories as repo
from sogenactif.server.vault import Vault


@dataclass(frozen=True)
class TestShop:
    merchant_id: str
    name: str
    key_version: int
    secret_key: str


TEST_SHOPS: tuple[TestShop, ...] = (
    TestShop("201040040170001", "Sogenactif test shop (the guide's)", 1,
             "rxSP61eeP_oNi5TxCD7Ngy9YcwC8MLw6OlmFGGcsY54"),
    TestShop("011223344550000", "Sample shop of the guide's examples", 1, "secret123"),
)


def seed_test_shops(conn: Connection, vault: Vault, now: datetime) -> None:
    """Insert the test shops that are missing; never touches existing ones."""
    for shop in TEST_SHOPS:
        if repo.get_shop(conn, shop.merchant_id) is None:
            repo.add_shop(conn, shop.merchant_id, shop.name, now)
            repo.add_key(conn, vault, shop.merchant_id, shop.key_version, shop.secret_key, now)
