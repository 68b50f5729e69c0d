"""Fixtures: a real server over HTTP on each backend (SQLite and PostgreSQL).

With SOGENACTIF_REQUIRE_POSTGRES=1 (what `make test` and CI set) a missing PostgreSQL is an
error, not a skip, and the run fails if no PostgreSQL test ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sogenactif import Client
from tests.support import (
    GUIDE_SHOP,
    SAMPLE_SHOP,
    RunningServer,
    create_pg_database,
    drop_pg_database,
    postgres_available,
)

REQUIRE_POSTGRES = os.environ.get("SOGENACTIF_REQUIRE_POSTGRES") == "1"
_postgres_passed = 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if backend == "postgres":
            item.add_marker(pytest.mark.postgres)
        elif backend == "sqlite":
            item.add_marker(pytest.mark.sqlite)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _postgres_passed
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_passed += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_line(f"postgres: {_postgres_passed} PostgreSQL tests passed")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    selected = session.config.getoption("-m") or ""
    if REQUIRE_POSTGRES and _postgres_passed == 0 and "not postgres" not in selected \
            and session.testscollected > 0 and exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not postgres_available():
        message = ("PostgreSQL does not answer on 127.0.0.1:5432; start it with "
                   "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'office.db'}"


@pytest.fixture(scope="session")
def server(backend: str, database_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server per backend for the whole session; tests use unique references."""
    running = RunningServer(backend, database_url, Path(tmp_path_factory.mktemp(backend)))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def client(server: RunningServer) -> Iterator[Client]:
    merchant_id, secret, version = SAMPLE_SHOP
    with Client(merchant_id, secret, version, server.url) as connector:
        yield connector


@pytest.fixture
def guide_client(server: RunningServer) -> Iterator[Client]:
    merchant_id, secret, version = GUIDE_SHOP
    with Client(merchant_id, secret, version, server.url) as connector:
        yield connector
