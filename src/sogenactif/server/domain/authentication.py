"""3-D Secure and provider redirections as decisions (spec §7): pure, no SQL, no HTTP.

Every value here that the guide does not fix is **our choice**, documented in
docs/3-d-secure.md: the redirectionStatusCode values, holderAuthentMethod/Program names, the
guaranteeIndicator of each outcome and the responseCode of a refused authentication.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

#: messageVersion of our simulated 3-D Secure exchange (EMV 3-D Secure 2.2).
THREEDS_MESSAGE_VERSION = "2.2.0"
#: messageVersion of the external-provider exchange.
PROVIDER_MESSAGE_VERSION = "1.0"
#: holderAuthentProgram when a 3-D Secure exchange took place.
PROGRAM = "3DS_V2"


class Enrolment(StrEnum):
    """What the test-card table says of a card's 3-D Secure enrolment (7th digit)."""

    CHALLENGE = "CHALLENGE"
    FRICTIONLESS = "FRICTIONLESS"
    NOT_ENROLLED = "NOT_ENROLLED"
    ACS_ERROR = "ACS_ERROR"

    @classmethod
    def parse(cls, value: str) -> Enrolment:
        try:
            return cls(value)
        except ValueError:
            return cls.NOT_ENROLLED


@dataclass(frozen=True)
class RedirectionStatus:
    """cardCheckEnrollment's redirectionStatusCode and message."""

    code: str
    message: str

    @property
    def redirect(self) -> bool:
        """The shopper must be sent to the ACS (otherwise: straight to the validate call)."""
        return self.code == "00"


REDIRECTION_STATUS: dict[Enrolment, RedirectionStatus] = {
    Enrolment.CHALLENGE: RedirectionStatus(
        "00", "Card enrolled: redirect the cardholder to redirectionUrl"),
    Enrolment.FRICTIONLESS: RedirectionStatus(
        "00", "Card enrolled: redirect the cardholder to redirectionUrl"),
    Enrolment.NOT_ENROLLED: RedirectionStatus(
        "01", "Card not enrolled: call cardValidateAuthenticationAndOrder without paResMessage"),
    Enrolment.ACS_ERROR: RedirectionStatus(
        "02", "Authentication unavailable (ACS error): call cardValidateAuthenticationAndOrder "
              "without paResMessage"),
}


class AcsChoice(StrEnum):
    """What the shopper (or the frictionless flow) did at the ACS."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    ATTEMPT = "ATTEMPT"
    CANCEL = "CANCEL"
    ERROR = "ERROR"


@dataclass(frozen=True)
class AuthenticationResult:
    """The holderAuthent* fields and guaranteeIndicator of an authentication."""

    status: str
    method: str | None
    program: str | None
    guarantee: str

    @property
    def may_authorise(self) -> bool:
        """Whether the authorisation may go on (merchant's risk when not guaranteed)."""
        return self.status in ("SUCCESS", "ATTEMPT", "NOT_ENROLLED", "ERROR")

    @property
    def refusal_code(self) -> str:
        """The responseCode when the authorisation may not go on: 17 cancel, 05 failure."""
        return "17" if self.status == "CANCEL" else "05"

    def columns(self) -> dict[str, str | None]:
        return {"holder_authent_status": self.status,
                "holder_authent_method": self.method,
                "holder_authent_program": self.program,
                "guarantee_indicator": self.guarantee}

    def answer(self) -> dict[str, str]:
        fields = {"holderAuthentStatus": self.status,
                  "holderAuthentMethod": self.method,
                  "holderAuthentProgram": self.program,
                  "guaranteeIndicator": self.guarantee}
        return {k: v for k, v in fields.items() if v is not None}


#: guaranteeIndicator by holderAuthentStatus: the liability shift goes with a success or an
#: attempt; a refused or missing authentication gives none; an ACS error leaves it unknown.
GUARANTEE: dict[str, str] = {
    "SUCCESS": "Y", "ATTEMPT": "Y", "FAILURE": "N", "CANCEL": "N",
    "NOT_ENROLLED": "N", "ERROR": "U",
}


def acs_result(choice: AcsChoice, *, frictionless: bool = False) -> AuthenticationResult:
    """The result the ACS signs into the PaRes."""
    status = choice.value
    if frictionless:
        method = "FRICTIONLESS"
    elif choice in (AcsChoice.SUCCESS, AcsChoice.FAILURE):
        method = "OTP"
    else:
        method = "NONE"
    return AuthenticationResult(status, method, PROGRAM, GUARANTEE[status])


def result_without_pares(enrolment: Enrolment) -> AuthenticationResult | None:
    """The result when no redirection took place; None when a PaRes is required."""
    if enrolment is Enrolment.NOT_ENROLLED:
        return AuthenticationResult("NOT_ENROLLED", None, None, GUARANTEE["NOT_ENROLLED"])
    if enrolment is Enrolment.ACS_ERROR:
        return AuthenticationResult("ERROR", None, PROGRAM, GUARANTEE["ERROR"])
    return None


def aware(moment: datetime) -> datetime:
    """A datetime read back from SQLite has no offset; the store always writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def session_expired(now: datetime, deadline: datetime | None) -> bool:
    """The shopper did not come back in time (the deadline itself is still in time)."""
    return deadline is not None and aware(now) > aware(deadline)


class ProviderOutcome(StrEnum):
    """What the shopper did on the external provider's page."""

    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"


#: The answer of paymentProviderFinalize by outcome: (responseCode, acquirerResponseCode).
PROVIDER_CODES: dict[ProviderOutcome, tuple[str, str | None]] = {
    ProviderOutcome.APPROVED: ("00", "00"),
    ProviderOutcome.DECLINED: ("05", "05"),
    ProviderOutcome.CANCELLED: ("17", None),
}


def md_acceptable(md: str) -> str | None:
    """Why an MD breaks the guide's rule (ASCII 0x20-0x7E, at most 1024 bytes), or None."""
    if any(not 0x20 <= ord(char) <= 0x7E for char in md):
        return "MD must only hold ASCII characters 0x20 to 0x7E (Base64-encode other data)"
    if len(md.encode("utf-8")) > 1024:
        return "MD must not be longer than 1024 bytes"
    return None
