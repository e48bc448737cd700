"""A city that fails the distress tests asks staff for an eligibility exception.

Anyone for the city may ask (before signing up: the eligibility page offers it), giving their name,
e-mail address, role and a written reason, and optionally an eligible city that would lead a regional
application. Staff see the open requests in their exception queue; granting the city's exception
answers every open request of the city, declining answers one with a written reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from nrn_contracts.events import accounts as c
from nrn_contracts.values import MultiLine, SingleLine
from pydantic import BaseModel, Field, PrivateAttr

from .cities import City, explain_eligibility
from .errors import DomainRuleError, InvalidTransition

RequestStatus = Literal["open", "granted", "declined"]


class ExceptionRequest(BaseModel):
    exception_request_id: str
    city_id: str
    city_name: str
    state: str
    name: str
    email: str
    title: str
    reason: str
    lead_city_id: str | None = None
    lead_city_name: str | None = None
    status: RequestStatus = "open"
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    _events: list = PrivateAttr(default_factory=list)

    def pull_events(self) -> list:
        events, self._events = self._events, []
        return events

    def decline(self, *, reason: str, by: str, at: datetime) -> None:
        if self.status != "open":
            raise InvalidTransition("this exception request was already answered", field="exception_request_id")
        if not reason.strip():
            raise DomainRuleError("say why the exception is declined", field="reason")
        self.status, self.decided_by, self.decided_at, self.decision_reason = "declined", by, at, reason.strip()
        self._events.append(c.EligibilityExceptionRequestDeclined(
            exception_request_id=self.exception_request_id, city_id=self.city_id, reason=self.decision_reason,
            by=by, at=at))

    def granted(self, *, reason: str, by: str, at: datetime) -> None:
        """The city's exception was granted: this request is answered (no event of its own)."""
        self.status, self.decided_by, self.decided_at, self.decision_reason = "granted", by, at, reason


def request_exception(*, exception_request_id: str, city: City, name: str, email: str, title: str, reason: str,
                      lead_city: City | None, now: datetime) -> ExceptionRequest:
    """Raises DomainRuleError when the city is eligible already or the lead city is not eligible."""
    if explain_eligibility(city).eligible:
        raise DomainRuleError(f"{city.name}, {city.state} is eligible already: sign up instead", field="city_id")
    if lead_city is not None:
        if lead_city.city_id == city.city_id:
            raise DomainRuleError("a regional application is led by another city", field="lead_city_id")
        if not explain_eligibility(lead_city).eligible:
            raise DomainRuleError(f"{lead_city.name}, {lead_city.state} is not eligible either: a regional "
                                  "application needs an eligible lead city", field="lead_city_id")
    request = ExceptionRequest(
        exception_request_id=exception_request_id, city_id=city.city_id, city_name=city.name, state=city.state,
        name=name.strip(), email=email.strip().lower(), title=title.strip(), reason=reason.strip(),
        lead_city_id=lead_city.city_id if lead_city else None, lead_city_name=lead_city.name if lead_city else None,
        requested_at=now)
    request._events.append(c.EligibilityExceptionRequested(
        exception_request_id=exception_request_id, city_id=city.city_id, reason=request.reason,
        lead_city_id=request.lead_city_id, at=now))
    return request


class NewExceptionRequest(BaseModel):
    """The body of ``POST /cities/{city_id}/exception-requests``."""

    name: SingleLine = Field(min_length=1, max_length=200)
    email: SingleLine = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    title: SingleLine = Field(min_length=1, max_length=300)
    reason: MultiLine = Field(min_length=1, max_length=5000)
    lead_city_id: SingleLine | None = Field(None, max_length=128)
