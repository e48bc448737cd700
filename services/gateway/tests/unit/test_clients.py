"""The shared service clients: retries, breaker, timeouts, pass-through, propagation."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from gateway.clients import CircuitBreaker, RetryPolicy, ServiceClient, ServiceUnavailable, UpstreamError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def no_sleep(_: float) -> None:
    return None


def make_client(handler, *, retries: int = 2, threshold: int = 3, clock=None) -> tuple[ServiceClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request, len(seen))

    client = ServiceClient(
        "svc",
        "http://svc.test",
        timeout=httpx.Timeout(1.0, connect=0.5),
        retry=RetryPolicy(retries=retries, backoff=0.01),
        breaker=CircuitBreaker("svc", failure_threshold=threshold, reset_timeout=10.0, clock=clock or FakeClock()),
        transport=httpx.MockTransport(record),
        sleep=no_sleep,
    )
    return client, seen


async def test_get_is_retried_on_503_then_succeeds() -> None:
    def handler(request, n):
        return httpx.Response(503) if n < 3 else httpx.Response(200, json={"ok": True})

    client, seen = make_client(handler, threshold=10)
    assert await client.get_json("/x") == {"ok": True}
    assert len(seen) == 3


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_non_idempotent_calls_are_never_retried(method: str) -> None:
    client, seen = make_client(lambda r, n: httpx.Response(503), threshold=10)
    with pytest.raises(ServiceUnavailable):
        await client.request(method, "/x", json={})
    assert len(seen) == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD"])
async def test_idempotent_writes_are_retried(method: str) -> None:
    client, seen = make_client(lambda r, n: httpx.Response(502), retries=2, threshold=10)
    with pytest.raises(ServiceUnavailable):
        await client.request(method, "/x")
    assert len(seen) == 3


async def test_connect_errors_on_post_are_not_retried_but_on_get_are() -> None:
    def handler(request, n):
        raise httpx.ConnectError("refused", request=request)

    client, seen = make_client(handler, threshold=10)
    with pytest.raises(ServiceUnavailable) as err:
        await client.request("POST", "/x")
    assert "unreachable" in err.value.reason and len(seen) == 1
    with pytest.raises(ServiceUnavailable):
        await client.request("GET", "/x")
    assert len(seen) == 1 + 3


async def test_read_timeout_becomes_service_unavailable() -> None:
    def handler(request, n):
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_client(handler, retries=0)
    with pytest.raises(ServiceUnavailable) as err:
        await client.get_json("/x")
    assert err.value.reason.startswith("timed out")


async def test_500_is_not_retried_even_for_get() -> None:
    # A 500 is a bug, not congestion: retrying it only triples the load.
    client, seen = make_client(lambda r, n: httpx.Response(500), threshold=10)
    with pytest.raises(ServiceUnavailable) as err:
        await client.get_json("/x")
    assert err.value.status == 500 and len(seen) == 1


async def test_upstream_problem_details_pass_through() -> None:
    problem = {"type": "https://nationalresourcenetwork.org/problems/invalid-input", "title": "Invalid input",
               "status": 422, "detail": "question: too short", "errors": [{"field": "question"}]}

    client, seen = make_client(
        lambda r, n: httpx.Response(422, json=problem, headers={"content-type": "application/problem+json"})
    )
    with pytest.raises(UpstreamError) as err:
        await client.get_json("/x")
    assert err.value.status == 422
    assert err.value.problem() == problem
    assert len(seen) == 1  # a 4xx is an answer: no retry
    assert client.breaker.state == "closed"


async def test_non_problem_4xx_body_is_wrapped_as_a_problem() -> None:
    client, _ = make_client(lambda r, n: httpx.Response(404, json={"detail": "no such request"}))
    with pytest.raises(UpstreamError) as err:
        await client.get_json("/x")
    assert err.value.problem()["status"] == 404
    assert err.value.problem()["detail"] == "no such request"


async def test_authorization_and_trace_context_are_forwarded() -> None:
    client, seen = make_client(lambda r, n: httpx.Response(200, json={}))
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("incoming") as span:
        await client.get_json("/x", token="abc.def.ghi")
        trace_id = format(span.get_span_context().trace_id, "032x")
    sent = seen[0].headers
    assert sent["authorization"] == "Bearer abc.def.ghi"
    assert sent["traceparent"].split("-")[1] == trace_id


async def test_none_params_are_dropped() -> None:
    client, seen = make_client(lambda r, n: httpx.Response(200, json=[]))
    await client.get_json("/x", params={"a": "1", "b": None})
    assert seen[0].url.params == httpx.QueryParams({"a": "1"})


async def test_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = FakeClock()
    client, seen = make_client(lambda r, n: httpx.Response(503), retries=0, threshold=3, clock=clock)
    for _ in range(3):
        with pytest.raises(ServiceUnavailable):
            await client.get_json("/x")
    assert client.breaker.state == "open"
    with pytest.raises(ServiceUnavailable) as err:
        await client.get_json("/x")
    assert err.value.reason == "circuit open"
    assert len(seen) == 3  # the open breaker did not call the service


async def test_breaker_half_opens_after_cooldown_and_closes_on_success() -> None:
    clock = FakeClock()
    healthy = {"up": False}

    def handler(request, n):
        return httpx.Response(200, json={"n": n}) if healthy["up"] else httpx.Response(503)

    client, seen = make_client(handler, retries=0, threshold=2, clock=clock)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            await client.get_json("/x")
    assert client.breaker.state == "open"
    clock.now += 10.0
    assert client.breaker.state == "half_open"
    healthy["up"] = True
    await client.get_json("/x")
    assert client.breaker.state == "closed"


async def test_failed_probe_reopens_the_breaker() -> None:
    clock = FakeClock()
    client, seen = make_client(lambda r, n: httpx.Response(503), retries=0, threshold=2, clock=clock)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            await client.get_json("/x")
    clock.now += 10.0
    with pytest.raises(ServiceUnavailable):
        await client.get_json("/x")  # the probe
    assert client.breaker.state == "open"
    assert len(seen) == 3


def test_half_open_lets_one_probe_through_at_a_time() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("svc", failure_threshold=1, reset_timeout=5.0, clock=clock)
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 5.0
    assert breaker.allow()
    assert not breaker.allow()  # the second caller waits for the probe's verdict
    breaker.release_trial()  # the probe was cancelled
    assert breaker.allow()


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker("svc", failure_threshold=3, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(retries=5, backoff=0.1, max_backoff=0.5)
    assert [policy.delay(i) for i in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
