"""Card numbers: Luhn, masking, expiry."""

from __future__ import annotations

from datetime import date


def luhn_ok(pan: str) -> bool:
    """The Luhn check digit is right."""
    if not pan.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def mask_pan(pan: str) -> str:
    """First six and last four digits kept, the rest masked (PCI DSS display rule)."""
    if len(pan) <= 10:
        return "#" * len(pan)
    return pan[:6] + "#" * (len(pan) - 10) + pan[-4:]


def expired(expiry_yyyymm: str, today: date) -> bool:
    """A card is valid to the end of its expiry month."""
    year, month = int(expiry_yyyymm[:4]), int(expiry_yyyymm[4:6])
    return (year, month) < (today.year, today.month)
