"""axe-core, vendored in tests/browser/vendor/axe-core, checks each kind of dashboard page in the browser:
labels, contrast, landmarks, names of links and buttons (WCAG 2 A and AA rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.shop import Shop
from tests.browser.test_dashboard import _customer

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=AXE)
    found: list[dict[str, Any]] = page.evaluate("rules => axe.run(document, rules).then(r => r.violations)", RULES)
    return [{"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in found]


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/orders", "/admin/catalogue", "/admin/customers", "/admin/webhooks", "/admin/audit"]
)
def test_each_list_page_passes_axe(admin_page: Page, shop: Shop, path: str) -> None:
    admin_page.goto(f"{shop.base}{path}")

    assert _violations(admin_page) == []


def test_the_sign_in_page_passes_axe(page: Page, shop: Shop) -> None:
    page.goto(f"{shop.base}/admin/sign-in")

    assert _violations(page) == []


def test_an_order_page_passes_axe(admin_page: Page, shop: Shop) -> None:
    order = shop.shipped_paid_order(_customer(shop), shop.token("admin"))

    admin_page.goto(f"{shop.base}/admin/orders/{order['id']}")

    assert _violations(admin_page) == []
