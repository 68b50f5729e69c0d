"""The simulated acquirer: decides an authorisation from the test-card table (data)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from sogenactif.server.domain.cards import expired, luhn_ok

DEFAULT_TABLE = "test_cards.toml"


@dataclass(frozen=True)
class CardTable:
    """The rules of test_cards.toml, loaded."""

    brands: dict[str, str]
    other_brands: dict[str, str]
    outcomes: dict[str, tuple[str, str]]
    enrolment: dict[str, str]
    fraud: dict[str, str]
    incorrect_csc: frozenset[str]
    acs_otp: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> CardTable:
        outcomes = {k: (str(v[0]), str(v[1])) for k, v in data["outcomes"].items()}
        return cls(
            brands={str(k): str(v) for k, v in data["brands"].items()},
            other_brands={str(k): str(v) for k, v in data.get("other_brands", {}).items()},
            outcomes=outcomes,
            enrolment={str(k): str(v) for k, v in data["enrolment"].items()},
            fraud={str(k): str(v) for k, v in data["fraud"].items()},
            incorrect_csc=frozenset(str(v) for v in data.get("csc", {}).get("incorrect", [])),
            acs_otp=str(data.get("acs", {}).get("otp", "123456")),
            raw=data,
        )


def _default_data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(DEFAULT_TABLE).read_text("utf-8")
    return tomllib.loads(text)


def load_table(path: str | Path | None = None) -> CardTable:
    """The default table, with the sections of ``path`` (if given) replacing its own."""
    data = _default_data()
    if path is not None:
        with open(path, "rb") as handle:
            data.update(tomllib.load(handle))
    return CardTable.from_mapping(data)


@dataclass(frozen=True)
class CardProfile:
    """What the table says of a card before any amount or date is considered."""

    test_card: bool
    brand: str
    enrolment: str
    fraud: str


@dataclass(frozen=True)
class Decision:
    """The acquirer's answer to an authorisation request."""

    response_code: str
    acquirer_response_code: str
    csc_result_code: str
    fraud: str = "GREEN"

    @property
    def accepted(self) -> bool:
        return self.response_code == "00"


class Acquirer:
    """Decides authorisations; pure: the date and the card come in, a decision goes out."""

    def __init__(self, table: CardTable) -> None:
        self.table = table

    def profile(self, pan: str) -> CardProfile:
        table = self.table
        brand = table.brands.get(pan[:6])
        if brand is not None and len(pan) >= 8:
            return CardProfile(
                test_card=True,
                brand=brand,
                enrolment=table.enrolment.get(pan[6], table.enrolment.get("default", "")),
                fraud=table.fraud.get(pan[7], table.fraud.get("default", "GREEN")),
            )
        other = "CB"
        for length in range(len(pan), 0, -1):
            found = table.other_brands.get(pan[:length])
            if found is not None:
                other = found
                break
        return CardProfile(False, other, table.enrolment.get("default", "NOT_ENROLLED"),
                           table.fraud.get("default", "GREEN"))

    def authorise(self, pan: str, expiry: str, csc: str | None, today: date) -> Decision:
        """The order of checks: card number, expiry, CSC, fraud score, the scripted ending."""
        profile = self.profile(pan)
        csc_result = "53" if not csc else "4D"
        if not profile.test_card and not luhn_ok(pan):
            return Decision("14", "14", csc_result)
        if expired(expiry, today):
            return Decision("54", "54", csc_result)
        if csc and csc in self.table.incorrect_csc:
            return Decision("14", "14", "4E")
        if profile.fraud == "RED":
            return Decision("34", "34", csc_result, "RED")
        if profile.test_card:
            outcome = self.table.outcomes.get(pan[-2:])
            if outcome is not None:
                return Decision(outcome[0], outcome[1], csc_result, profile.fraud)
        return Decision("00", "00", csc_result, profile.fraud)
