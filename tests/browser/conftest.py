"""The browser tier: Playwright drives the system's Chromium against a real `orderline serve`, on SQLite and
on PostgreSQL. Playwright never downloads a browser here: it starts /usr/bin/chromium (or
ORDERLINE_TEST_CHROMIUM). Outside CI a missing Chromium skips this tier with a message; with CI=true it fails.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, expect, sync_playwright

from orderline.application.principal import SYSTEM
from orderline.application.users import Registration
from orderline.bootstrap import build
from orderline.domain.user import Role
from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import upgrade
from tests.browser.shop import PASSWORD, Shop
from tests.e2e.process import serving
from tests.support import FAST_HASHER, TEST_GATEWAY_SECRET, TEST_JWT_SECRET, engine_settings

CHROMIUM = os.environ.get("ORDERLINE_TEST_CHROMIUM", "/usr/bin/chromium")
# As the machine's own probe starts it: no sandbox (root in CI), no GPU, and no calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
TIMEOUT_MS = 5_000  # what a page may take to show what a test waits for; pages answer in milliseconds
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)
ENGINES = ["sqlite", "postgresql"]
ADMIN = "admin"
LEAVER = "leaver"  # an administrator whom a test suspends
HELPDESK = "helpdesk"  # support staff
STAFF = {ADMIN: Role.ADMIN, LEAVER: Role.ADMIN, HELPDESK: Role.SUPPORT}
# Sign-ins of every test go through one limit per address; this tier tests the dashboard, not the limit.
RATE_LIMITS = "auth=1000/60,write=1000/60,default=5000/60"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = (f"browser tier not run: no Chromium at {CHROMIUM}. Install it (apt-get install chromium, "
                   "as scripts/install --dev does when root) or set ORDERLINE_TEST_CHROMIUM.")  # fmt: skip
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright(shop: Shop) -> Iterator[Playwright]:
    """Started once the shop is: Playwright's sync API runs an event loop of its own in this thread, and while it
    does, the PostgreSQL fixtures (asyncio.run) cannot. So it stops and starts again around each engine's shop."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile for each test: no cookies from another test's session."""
    made = browser.new_context(viewport=DESKTOP)
    made.set_default_timeout(TIMEOUT_MS)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def admin_state(browser: Browser, shop: Shop) -> Any:
    """The cookies of one browser signed in as ``admin`` on this shop: tests whose subject is not signing in
    start from them instead of signing in again (each sign-in is an argon2 hash and two pages)."""
    made = browser.new_context(viewport=DESKTOP)
    page = made.new_page()
    page.goto(f"{shop.base}/admin/sign-in")
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    state = made.storage_state()
    made.close()
    return state


@pytest.fixture
def admin_page(browser: Browser, admin_state: Any) -> Iterator[Page]:
    """A fresh browser profile already signed in as ``admin``."""
    made = browser.new_context(viewport=DESKTOP, storage_state=admin_state)
    made.set_default_timeout(TIMEOUT_MS)
    yield made.new_page()
    made.close()


_BROWSER_DATABASE = f"orderline_browser_{os.getpid()}"


def _postgres(admin_url: str, *statements: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def _postgres_database(admin_url: str) -> str:
    """A database of this tier's own (the other tiers empty theirs between tests), to be migrated."""
    _postgres(admin_url, f"DROP DATABASE IF EXISTS {_BROWSER_DATABASE} WITH (FORCE)",
              f"CREATE DATABASE {_BROWSER_DATABASE}")  # fmt: skip
    return admin_url.rsplit("/", 1)[0] + "/" + _BROWSER_DATABASE


async def _add_staff(url: str) -> None:
    """The tier's staff, registered in this process before the server starts: a command-line process per user
    cost seconds each on a busy machine (the CLI's own line is tested in tests/e2e/test_cli.py)."""
    use_cases = await build(engine_settings(url), hasher=FAST_HASHER)
    try:
        for username, role in STAFF.items():
            registration = Registration(username, f"{username}@example.com", PASSWORD)
            await use_cases.users.register(SYSTEM, registration, role)
    finally:
        await use_cases.close()


@pytest.fixture(scope="session", params=ENGINES)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """`orderline serve --demo` with its staff (two administrators, one support), on each engine in turn. The
    database is migrated and the staff added in this process, so the only process started is the server."""
    cwd = tmp_path_factory.mktemp(f"shop-{request.param}")
    env = {"ORDERLINE_RATE_LIMITS": RATE_LIMITS, "ORDERLINE_LOG_LEVEL": "warning"}
    if request.param == "sqlite":
        url = f"sqlite:///{cwd / 'orderline.db'}"
    else:
        admin_url: str = request.getfixturevalue("postgres_server_url")
        url = _postgres_database(admin_url)
        env |= {"ORDERLINE_JWT_SECRET": TEST_JWT_SECRET, "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET}
    env["ORDERLINE_DATABASE_URL"] = url
    upgrade(DatabaseUrl.parse(url))
    asyncio.run(_add_staff(url))
    env = os.environ | env
    with serving("--demo", cwd=cwd, env=env) as server:
        yield Shop(server, cwd, env)
    if request.param == "postgresql":
        _postgres(admin_url, f"DROP DATABASE IF EXISTS {_BROWSER_DATABASE} WITH (FORCE)")
