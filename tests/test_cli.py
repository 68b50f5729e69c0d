"""The command line: `seal` reproduces the spec's vectors; every command has --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sogenactif.cli import app
from tests.test_seal import G1, G1_DATA, G2

runner = CliRunner()


def _seal(args: list[str]) -> dict[str, str]:
    result = runner.invoke(app, ["seal", *args, "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_seal_g1_g2_g3(tmp_path: Path) -> None:
    cases = [
        (G1, "f1772faa4b73c0fc5a9810ad7fcaf91458d6174b2178a0a0a2bea2d860b404f5"),
        (G2, "322b943d833417c1570e0a282641e8e29d6a5b968c9b846694b5610e18ab5b81"),
        ({k: v for k, v in G2.items() if k != "customerContact"},
         "e4d75c6a779adee5850192d1ecc162ca0c85e960cb00d9923879609f89739152"),
    ]
    for index, (message, expected) in enumerate(cases):
        path = tmp_path / f"g{index}.json"
        path.write_text(json.dumps(message))
        out = _seal([str(path), "--key", "secret123"])
        assert out["seal"] == expected
    assert _seal([str(tmp_path / "g0.json"), "--key", "secret123"])["data"] == G1_DATA


def test_seal_g4_raw_data_string(tmp_path: Path) -> None:
    path = tmp_path / "g4.txt"
    path.write_text("This is a test!\n")
    out = _seal([str(path), "--key", "superSafeSecretKey", "--raw"])
    assert out == {"data": "This is a test!",
                   "seal": "198e5f278e3f8548e174e84492953c4871732278b7e2aa2cbf20bb1ab85914ea"}


def test_seal_follows_the_request_algorithm_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**G1, "sealAlgorithm": "SHA-256"}))
    default = _seal([str(path), "--key", "k"])["seal"]
    forced = _seal([str(path), "--key", "k", "--algorithm", "HMAC-SHA-512"])["seal"]
    assert len(default) == 64 and len(forced) == 128


def test_seal_human_output_and_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    result = runner.invoke(app, ["seal", str(path), "--key", "k"], env={"COLUMNS": "200"})
    assert result.exit_code != 0 and "not JSON" in result.output
    good = tmp_path / "g1.json"
    good.write_text(json.dumps(G1))
    result = runner.invoke(app, ["seal", str(good), "--key", "secret123"])
    assert "data:" in result.output and "f1772faa" in result.output


@pytest.mark.parametrize("command", [[], ["seal"], ["serve"], ["shop"], ["shop", "list"],
                                     ["shop", "add"], ["key"], ["key", "add"],
                                     ["key", "revoke"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_installed_entry_point_runs() -> None:
    exe = Path(sys.executable).with_name("sogenactif")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "seal" in out.stdout and "serve" in out.stdout
