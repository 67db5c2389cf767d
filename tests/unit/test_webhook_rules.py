"""What a webhook subscription may say: its URL, its event patterns, which events they match, its secret."""

from __future__ import annotations

import base64
import re

import pytest

from orderline.application.errors import InvalidWebhook
from orderline.application.webhooks import EVENT_TYPES, URL_PATTERN, check_patterns, check_url, matches, new_secret


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hooks", "http://localhost:8080", "http://10.0.0.7/x?y=1#z", "https://a-b.c.example:443/"],
)
def test_an_http_url_with_a_host_is_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "https://", "https://user:pw@example.com/", "https://-bad.example/", "example.com/x",
     "https://example.com/ space", "https://example.com:0/", "https://example.com:65536/", "http://[::1]/",
     "https://exa mple.com/", "https://example.com/\u00e9", "https://example.com\n"],
)  # fmt: skip
def test_a_url_that_is_not_http_with_a_host_is_refused_naming_the_url(url: str) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        check_url(url)

    assert refused.value.details["field"] == "url"
    assert refused.value.details["url"] == url


def test_the_document_states_the_url_rule_python_checks() -> None:
    # ECMA-262 reads the pattern as Python does only without \d, \s, \w and lookbehinds.
    assert not re.search(r"\\[dswDSW]|\(\?<", URL_PATTERN)


def test_patterns_are_known_types_families_or_everything_each_kept_once() -> None:
    assert check_patterns(["order.*", "payment.succeeded", "order.*", "*"]) == ("order.*", "payment.succeeded", "*")


@pytest.mark.parametrize("pattern", ["order.shipped", "orders.*", "order.", "ping", "**", "ORDER.CREATED", ""])
def test_an_unknown_pattern_is_refused_naming_it(pattern: str) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        check_patterns(["order.created", pattern])

    assert refused.value.details == {"field": "events", "pattern": pattern}


def test_no_pattern_at_all_is_refused() -> None:
    with pytest.raises(InvalidWebhook):
        check_patterns([])


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "refund.failed", True),
        (["order.*"], "order.statusChanged", True),
        (["order.*"], "payment.succeeded", False),
        (["payment.succeeded"], "payment.succeeded", True),
        (["payment.succeeded"], "payment.failed", False),
        (["*"], "ping", False),
    ],
)
def test_patterns_match_their_types(patterns: list[str], event_type: str, expected: bool) -> None:
    assert matches(patterns, event_type) is expected


def test_every_event_type_belongs_to_a_family_a_pattern_names() -> None:
    assert all(matches([event_type.split(".")[0] + ".*"], event_type) for event_type in EVENT_TYPES)


def test_a_secret_is_whsec_and_the_base64_of_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second
