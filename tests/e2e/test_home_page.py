"""GET /: a small HTML page that names the service and links what a newcomer looks for first."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from litestar import Litestar

from orderline import __version__
from orderline.http.api.home import HEALTH_CHECKS
from tests.e2e.http import Client, assert_problem


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The page touches no storage: one engine is enough."""
    path = tmp_path / "orderline.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.links += [value for name, value in attrs if tag == "a" and name == "href" and value]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def _home(client: Client) -> _Page:
    response = await client.get("/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = _Page()
    page.feed(response.text)
    return page


async def test_the_home_page_names_the_service_and_its_version_without_javascript(client: Client) -> None:
    page = await _home(client)

    text = " ".join(page.text)
    assert "orderline" in text
    assert __version__ in text
    assert page.scripts == 0


async def test_the_home_page_links_the_api_docs_the_openapi_document_and_the_health_checks(client: Client) -> None:
    page = await _home(client)

    assert {"/schema/swagger", "/schema/openapi.json", "/v1/livez", "/v1/healthz"} <= set(page.links)


async def test_the_home_page_links_every_health_check_the_service_has(client: Client, app: Litestar) -> None:
    served = {route.path for route in app.routes}

    page = await _home(client)

    assert [path for path, _ in HEALTH_CHECKS if path in served] == [
        link for link in page.links if link in dict(HEALTH_CHECKS)
    ]


async def test_every_link_on_the_home_page_answers(client: Client) -> None:
    page = await _home(client)

    for link in page.links:
        assert (await client.get(link)).status_code == 200, link


async def test_the_home_page_says_the_dashboard_is_not_there_yet(client: Client) -> None:
    page = await _home(client)

    assert "not yet" in " ".join(page.text).lower()
    assert not any(link.startswith("/admin") for link in page.links)


async def test_the_home_page_carries_the_request_id_and_the_rate_limit_headers(client: Client) -> None:
    response = await client.get("/")

    assert response.headers["x-request-id"]
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= response.headers.keys()


@pytest.mark.parametrize("path", ["/nowhere", "/index.html", "/v1"])
async def test_an_unknown_path_beside_the_home_page_is_still_a_404_problem(client: Client, path: str) -> None:
    response = await client.get(path)

    assert_problem(response, 404, "not-found")
