"""Helpers the tests share: running servers, unique references, raw sealed requests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg

from sogenactif.protocol.seal import SealAlgorithm, compute_seal

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("SOGENACTIF_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

SAMPLE_SHOP = ("011223344550000", "secret123", 1)
GUIDE_SHOP = ("201040040170001", "rxSP61eeP_oNi5TxCD7Ngy9YcwC8MLw6OlmFGGcsY54", 1)


def reference(prefix: str = "T") -> str:
    """A transactionReference no other test uses (AN..35)."""
    return f"{prefix}{secrets.token_hex(8)}"


def future_expiry(years: int = 3) -> str:
    today = date.today()
    return f"{today.year + years}{today.month:02d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def create_pg_database() -> str:
    """A fresh, empty database for one test session; returns its URL."""
    name = f"sogenactif_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class RunningServer:
    """A `sogenactif serve` process on a free port."""

    backend: str
    database_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    master_key_file: Path | None = None  # share another server's key to share its database
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key_file(self) -> Path:
        return self.master_key_file or self.workdir / "sogenactif.masterkey"

    def start(self) -> RunningServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "sogenactif", "serve", "--port", str(self.port),
                   "--database-url", self.database_url, "--workers", str(self.workers),
                   "--master-key-file", str(self.key_file), *self.extra_args]
        # No scheduled batch unless a test asks for one: a run past the cut-off would
        # capture what other tests are looking at.
        env = {**os.environ, "SOGENACTIF_BATCH_CUTOFF": "off", **self.env}
        env.pop("SOGENACTIF_MASTER_KEY", None)
        with open(self.workdir / "server.log", "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log())
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log())

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sealed_request(fields: dict[str, Any], shop: tuple[str, str, int] = SAMPLE_SHOP, *,
                   interface_version: str = "IR_WS_2.55",
                   algorithm: SealAlgorithm = SealAlgorithm.HMAC_SHA_256) -> dict[str, Any]:
    """A raw request body sealed with the shop's key."""
    merchant_id, secret, version = shop
    body: dict[str, Any] = {"interfaceVersion": interface_version, "merchantId": merchant_id,
                            "keyVersion": str(version), **fields}
    if algorithm is not SealAlgorithm.HMAC_SHA_256:
        body["sealAlgorithm"] = algorithm.value
    body["seal"] = compute_seal(body, secret, algorithm)
    return body


def card_order_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "amount": "2500", "currencyCode": "978", "transactionReference": reference(),
        "cardNumber": "4100000000000000", "cardExpiryDate": future_expiry(),
        "cardCSCValue": "123", "orderChannel": "INTERNET", "captureMode": "AUTHOR_CAPTURE",
        "captureDay": "0", "orderId": "ORD101", "returnContext": "ReturnContext",
        "transactionOrigin": "SO_WEBAPPLI",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}
