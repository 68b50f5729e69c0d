"""Money is an integer in the currency's smallest unit; currencies by ISO 4217 number."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Currency:
    numeric: str
    alpha: str
    decimals: int


CURRENCIES: dict[str, Currency] = {
    c.numeric: c
    for c in (
        Currency("978", "EUR", 2), Currency("840", "USD", 2), Currency("826", "GBP", 2),
        Currency("756", "CHF", 2), Currency("392", "JPY", 0), Currency("788", "TND", 3),
        Currency("124", "CAD", 2), Currency("036", "AUD", 2), Currency("208", "DKK", 2),
        Currency("752", "SEK", 2), Currency("578", "NOK", 2), Currency("985", "PLN", 2),
        Currency("203", "CZK", 2), Currency("348", "HUF", 2), Currency("949", "TRY", 2),
        Currency("504", "MAD", 2), Currency("952", "XOF", 0), Currency("953", "XPF", 0),
        Currency("156", "CNY", 2), Currency("344", "HKD", 2), Currency("702", "SGD", 2),
        Currency("554", "NZD", 2), Currency("410", "KRW", 0), Currency("356", "INR", 2),
        Currency("986", "BRL", 2), Currency("484", "MXN", 2), Currency("710", "ZAR", 2),
        Currency("048", "BHD", 3), Currency("414", "KWD", 3), Currency("512", "OMR", 3),
        Currency("634", "QAR", 2), Currency("682", "SAR", 2), Currency("784", "AED", 2),
        Currency("376", "ILS", 2), Currency("946", "RON", 2), Currency("975", "BGN", 2),
    )
}


def currency(numeric: str) -> Currency | None:
    """The currency of an ISO 4217 numeric code, or None when the platform does not know it."""
    return CURRENCIES.get(numeric)


def format_amount(amount: int, numeric: str) -> str:
    """``2500, "978"`` -> ``"25.00 EUR"``, for people (reports, pages), never for the wire."""
    cur = CURRENCIES.get(numeric)
    if cur is None:
        return f"{amount} ({numeric})"
    if cur.decimals == 0:
        return f"{amount} {cur.alpha}"
    units, cents = divmod(amount, 10**cur.decimals)
    return f"{units}.{cents:0{cur.decimals}d} {cur.alpha}"
