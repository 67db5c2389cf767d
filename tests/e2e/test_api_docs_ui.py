"""The API docs UI works without internet: the Swagger page loads only files the service itself serves."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from orderline.http.api_docs import ASSETS, SWAGGER_UI_VERSION
from tests.e2e.http import Client

# RFC 9239 names text/javascript; Python before 3.12 guesses the older application/javascript.
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """These pages touch no storage: one engine is enough."""
    path = tmp_path / "orderline.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load or link: src and href attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


async def _referenced(client: Client, path: str) -> list[str]:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    parser = _References()
    parser.feed(page.text)
    return parser.urls


async def test_the_swagger_page_references_no_external_host(client: Client) -> None:
    urls = await _referenced(client, "/schema/swagger")

    external = [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc]

    assert len(urls) >= 4  # the bundle, the standalone preset, the stylesheet, the icon
    assert external == []


async def test_every_asset_the_swagger_page_references_is_served_with_its_content_type(client: Client) -> None:
    urls = await _referenced(client, "/schema/swagger")

    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        media_type = response.headers["content-type"].split(";")[0]
        assert media_type in CONTENT_TYPES[Path(urlsplit(url).path).suffix], (url, media_type)
        assert response.content


async def test_the_assets_served_are_the_pinned_swagger_ui_from_the_package(client: Client) -> None:
    vendored = files("orderline.http") / "static" / "swagger-ui" / "swagger-ui-bundle.js"

    served = await client.get(f"{ASSETS}/swagger-ui-bundle.js")

    assert served.content == vendored.read_bytes()
    assert SWAGGER_UI_VERSION.encode() in served.content


async def test_an_asset_that_is_not_vendored_is_a_404_problem(client: Client) -> None:
    response = await client.get(f"{ASSETS}/swagger-ui.js.map")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
