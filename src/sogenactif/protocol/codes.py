"""Response codes and the other enumerations, with what each means and what to do (spec §4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One code: its value, meaning and the merchant's next step."""

    value: str
    meaning: str
    advice: str


def _table(*codes: Code) -> dict[str, Code]:
    return {code.value: code for code in codes}


RESPONSE_CODES: dict[str, Code] = _table(
    Code("00", "accepted / done", "nothing to do"),
    Code("02", "authorisation by phone requested (ceiling reached)", "refuse or call the bank"),
    Code("03", "unknown merchant or invalid contract", "fix merchantId in your configuration"),
    Code("05", "refused (bank, 3-D Secure failure, fraud rules)",
         "read acquirerResponseCode and holderAuthentStatus"),
    Code("12", "invalid transaction: a required field is missing or parameters disagree",
         "fix the field named by errorFieldName"),
    Code("14", "invalid card data (PAN, CSC)", "ask the shopper to enter the card again"),
    Code("17", "cancelled by the shopper", "nothing to do"),
    Code("24", "operation not possible in the transaction's status or for this amount",
         "read the transaction with getTransactionData"),
    Code("25", "unknown transaction", "check transactionReference and merchantId"),
    Code("30", "format error", "fix the field named by errorFieldName"),
    Code("34", "suspected fraud, including a bad seal or an unknown or revoked keyVersion",
         "check your secret key and keyVersion; do not deliver"),
    Code("40", "function not allowed for this shop", "ask support to activate the option"),
    Code("51", "amount too high", "nothing to do"),
    Code("54", "card expired", "ask for another card"),
    Code("60", "pending", "poll getTransactionData"),
    Code("63", "security rules not met", "nothing to do"),
    Code("75", "too many attempts", "nothing to do"),
    Code("90", "service temporarily unavailable", "retry later"),
    Code("94", "duplicate transactionReference", "send a new transactionReference"),
    Code("97", "time limit exceeded, session expired", "start a new transaction"),
    Code("99", "temporary server problem", "retry later with a new transactionReference"),
)

ACQUIRER_RESPONSE_CODES: dict[str, Code] = _table(
    Code("00", "approved", "nothing to do"),
    Code("02", "refer to card issuer", "call the issuer"),
    Code("03", "invalid merchant", "fix the contract"),
    Code("05", "do not honour", "ask for another card"),
    Code("12", "invalid transaction", "fix the request"),
    Code("14", "invalid card number", "ask the shopper again"),
    Code("17", "cancelled by the cardholder", "nothing to do"),
    Code("33", "card expired", "ask for another card"),
    Code("34", "suspected fraud", "do not deliver"),
    Code("51", "insufficient funds", "ask for another card"),
    Code("54", "card expired", "ask for another card"),
    Code("61", "withdrawal limit exceeded", "ask for another card"),
    Code("63", "security rules violated", "nothing to do"),
    Code("75", "too many PIN/CSC attempts", "nothing to do"),
    Code("90", "system temporarily down", "retry later"),
    Code("91", "issuer unavailable", "retry later"),
    Code("96", "system malfunction", "retry later"),
    Code("97", "time limit exceeded", "retry later"),
    Code("98", "server unavailable", "retry later"),
    Code("99", "technical problem", "retry later"),
    Code("A1", "soft decline: authenticate with 3-D Secure", "retry with 3-D Secure"),
)

#: The guide's monitoring classes (going-live checks).
TECHNICAL_REFUSALS = frozenset({"90", "97", "99"})
FRAUD_REFUSALS = frozenset({"34"})
ATTEMPT_REFUSALS = frozenset({"75"})

CSC_RESULT_CODES: dict[str, str] = {
    "4D": "correct",
    "4E": "incorrect",
    "50": "not processed",
    "53": "missing",
}


def describe(code: str) -> str:
    """A one-line explanation of a responseCode, for errors and logs."""
    entry = RESPONSE_CODES.get(code)
    if entry is None:
        return f"responseCode {code}"
    return f"responseCode {code}: {entry.meaning} ({entry.advice})"
