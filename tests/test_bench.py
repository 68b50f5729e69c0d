"""`sogenactif bench` end to end with tiny counts (its figures are not asserted: no timed
assertions; what is checked is that every request was sent once and answered as expected)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None,
                                reason="wrk is not installed (apt-get install wrk)")


def bench(tmp_path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    output = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "-m", "sogenactif", "bench", "--requests", "48",
         "--connections", "1,4", "--max-seconds", "30", "--durable-seconds", "0.1",
         "--output", str(output), *args],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (output / "results.png").stat().st_size > 1000
    assert "| cardOrder | 4 | 48/48 | 0 |" in (output / "results.md").read_text()
    report = json.loads((output / "results.json").read_text())
    assert "cardOrder" in result.stdout and "req/s" in result.stdout
    return report  # type: ignore[no-any-return]


def check_levels(report: dict, targets: set[str]) -> None:  # type: ignore[type-arg]
    levels = report["levels"]
    assert {(level["target"], level["connections"]) for level in levels} == {
        (target, c) for target in targets for c in (1, 4)}
    for level in levels:
        assert level["sent"] == 48 and level["answered"] == 48, level
        assert level["good"] == 48 and level["errors"] == 0, level
        assert level["throughput"] > 0 and level["p50_ms"] <= level["p99_ms"]
        assert level["peak_rss_mb"] > 10
    assert report["ratios"]["cardOrder"].keys() == {"1", "4"}
    assert report["durable"]["fsync"] > 0 and report["durable"]["sqlite_commit"] > 0


def test_bench_sqlite_with_preload(tmp_path: Path) -> None:
    report = bench(tmp_path, "--preload", "300")
    check_levels(report, {"ceiling", "cardOrder", "cardOrder+preload"})
    assert report["settings"]["backend"] == "sqlite" and report["preload_seconds"] > 0
    assert report["ratios"]["cardOrder+preload"].keys() == {"1", "4"}


@pytest.mark.postgres
def test_bench_postgres_two_workers(tmp_path: Path, postgres_url: str) -> None:
    report = bench(tmp_path, "--database-url", postgres_url, "--workers", "2")
    check_levels(report, {"ceiling", "cardOrder"})
    assert report["settings"]["backend"] == "postgresql"
    assert report["settings"]["workers"] == 2
    assert report["durable"]["postgresql_commit"] > 0


def test_the_ceiling_route_is_off_unless_asked_for(server) -> None:  # type: ignore[no-untyped-def]
    """The bench's no-database route exists only with SOGENACTIF_BENCH_CEILING=1."""
    import httpx

    from tests.support import card_order_fields, sealed_request

    response = httpx.post(server.url + "/bench/ceiling", timeout=30,
                          json=sealed_request(card_order_fields()))
    assert response.status_code in (404, 405)
