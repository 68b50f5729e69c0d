"""Python names for Office fields (``card_csc_value`` <-> ``cardCSCValue``), from the dictionary."""

from __future__ import annotations

import re

from sogenactif.protocol.fields import DICTIONARY

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``cardCSCValue`` -> ``card_csc_value``; ``s10TransactionId`` -> ``s10_transaction_id``."""
    return _BOUNDARY.sub("_", name).lower()


#: snake_case -> the dictionary's field name, for every field the dictionary knows.
TO_OFFICE: dict[str, str] = {snake(name): name for name in DICTIONARY}
TO_PYTHON: dict[str, str] = {office: python for python, office in TO_OFFICE.items()}


def office_name(python_name: str) -> str:
    """The Office field a keyword argument stands for; unknown names pass through unchanged."""
    return TO_OFFICE.get(python_name, python_name)
