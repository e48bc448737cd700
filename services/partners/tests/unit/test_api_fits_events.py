"""What partners' API takes, its event takes too: an endpoint's URL and description travel in
``WebhookEndpointDisabled``, sent by the dispatcher long after the request, where a refusal would stop the
disabling (and the partner would never be told). The URL is what ``check_url`` returns; the description
what the API takes (stripped, an empty one is None)."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import TypeAdapter
from nrn_contracts.events.partners import WebhookEndpointDisabled
from nrn_contracts.testing import refused_by_event

from partners import api
from partners.domain.endpoints import check_url

LONGEST_HOST = "partner.example"


@pytest.mark.parametrize("body", [api.EndpointIn, api.EndpointPatch])
def test_a_description_the_route_takes_the_event_takes(body: type) -> None:
    assert refused_by_event(body, "description", WebhookEndpointDisabled, "description") == []


@pytest.mark.parametrize("url", [
    "https://partner.example/x", "https://partner.example:8443/hooks?a=1&b=%20", "https://198.51.100.7.nip.io/x",
    "https://partner.example/é/中文", "https://" + LONGEST_HOST + "/" + "x" * (2000 - 9 - len(LONGEST_HOST)),
])
def test_every_url_check_url_accepts_is_a_url_the_event_takes(url: str) -> None:
    checked = check_url(url, allow_loopback=False)
    info = WebhookEndpointDisabled.model_fields["url"]
    event_url = TypeAdapter(Annotated[info.annotation, info])
    assert event_url.validate_python(checked) == checked
