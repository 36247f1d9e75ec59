"""The Prometheus client against a fake API: one number, else no data and why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_bot.bot.guardrails.prometheus import Prometheus, reading_of
from tests.support.fake_prometheus import FAIL, NO_SERIES, FakePrometheus


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with FakePrometheus() as fake:
        yield fake


def test_one_series_is_its_number_and_the_token_is_sent(prometheus: FakePrometheus) -> None:
    prometheus.set("rate(x[5m])", 0.25)
    client = Prometheus(prometheus.url + "/", token="s3cret")
    assert client.query("rate(x[5m])").value == 0.25
    assert prometheus.asked == [("rate(x[5m])", "Bearer s3cret")]


@pytest.mark.parametrize(("answer", "detail"), [
    (NO_SERIES, "no series"),
    (FAIL, "Prometheus answered HTTP 500: query processing failed"),
    (float("nan"), "the value is nan"),
])
def test_anything_but_one_number_is_no_data(prometheus: FakePrometheus, answer: float | str,
                                            detail: str) -> None:
    prometheus.set("q", answer)
    reading = Prometheus(prometheus.url).query("q")
    assert (reading.value, reading.detail) == (None, detail)


def test_no_answer_within_the_timeout_is_no_data() -> None:
    with FakePrometheus(delay=0.5) as slow:
        slow.set("q", 1)
        reading = Prometheus(slow.url, timeout=0.1).query("q")
    assert (reading.value, reading.detail) == (None, "no answer within 0.1s")


def test_a_server_that_is_not_there_is_no_data() -> None:
    reading = Prometheus("http://127.0.0.1:9", timeout=1).query("q")
    assert reading.value is None and reading.detail is not None
    assert reading.detail.startswith("Prometheus could not be asked")


@pytest.mark.parametrize(("body", "detail"), [
    ({"status": "success", "data": {"resultType": "vector", "result": [
        {"value": [1, "1"]}, {"value": [1, "2"]}]}}, "2 series, not one"),
    ({"status": "success", "data": {"resultType": "scalar", "result": [1, "3.5"]}}, None),
    ({"status": "success", "data": {"resultType": "matrix", "result": []}},
     "the query gave a matrix result, not one number"),
    ({"status": "error", "error": "parse error"}, "the query failed: parse error"),
    ([1, 2], "the query failed: no status"),
])
def test_answers_are_read_strictly(body: object, detail: str | None) -> None:
    assert reading_of(body).detail == detail
