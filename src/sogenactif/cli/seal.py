"""`sogenactif seal`: the data string and the seal of a request, to diff with your own."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from sogenactif.protocol.seal import SealAlgorithm, compute_seal_of_data, seal_data


class AlgorithmChoice(StrEnum):
    hmac_sha_256 = "HMAC-SHA-256"
    sha_256 = "SHA-256"
    hmac_sha_512 = "HMAC-SHA-512"


def seal_command(
    file: Path = typer.Argument(..., help="A JSON request (or '-' for standard input).",
                                allow_dash=True),
    key: str = typer.Option(..., "--key", "-k", help="The shop's secret key."),
    algorithm: AlgorithmChoice | None = typer.Option(
        None, "--algorithm", "-a",
        help="Seal algorithm; default: the request's sealAlgorithm, else HMAC-SHA-256."),
    raw: bool = typer.Option(False, "--raw",
                             help="FILE holds a data string already, not a JSON request."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line {data, seal}."),
) -> None:
    """Print the data string and the seal of a request (what to check when you get a 34)."""
    text = sys.stdin.read() if str(file) == "-" else file.read_text("utf-8")
    if raw:
        data = text.rstrip("\n")
        chosen = SealAlgorithm(algorithm.value) if algorithm else SealAlgorithm.HMAC_SHA_256
    else:
        try:
            message = json.loads(text)
        except json.JSONDecodeError as error:
            raise typer.BadParameter(f"{file} is not JSON: {error}") from None
        if not isinstance(message, dict):
            raise typer.BadParameter(f"{file} must hold a JSON object")
        data = seal_data(message)
        try:
            chosen = (SealAlgorithm(algorithm.value) if algorithm
                      else SealAlgorithm.parse(message.get("sealAlgorithm")))
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
    result = compute_seal_of_data(data, key, chosen)
    if as_json:
        typer.echo(json.dumps({"data": data, "seal": result}, ensure_ascii=False))
    else:
        typer.echo(f"algorithm: {chosen.value}")
        typer.echo(f"data:      {data}")
        typer.echo(f"seal:      {result}")
