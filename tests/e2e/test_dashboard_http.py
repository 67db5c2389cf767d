"""The dashboard over HTTP, without a browser: its cookies, its CSRF check, its refusals as pages, its sign-in
under the same rate limit as the API's, and a crawl of every page for broken links and unlabelled controls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from litestar import Litestar

from orderline.application.catalogue import PetDraft
from orderline.application.orders import CancelOrder
from orderline.application.ports import DeliveryStatus
from orderline.application.principal import PUBLIC, SYSTEM
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.application.webhooks import WebhookDraft
from orderline.bootstrap import build
from orderline.domain.user import Role
from orderline.http.app import create_app
from tests.e2e.lifespan import lifespan_of
from tests.support import ADMIN, FAST_HASHER, Db, SteppingClock, a_pet, an_order, engine_settings, in_status
from tests.webhook_rows import a_delivery, an_event

PASSWORD = "keep the shop running"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')


@pytest.fixture
async def dashboard_app(database_url: str, clock: SteppingClock) -> AsyncIterator[Litestar]:
    settings = engine_settings(database_url, rate_limits="auth=3/60", webhooks_allow_private=True)
    app = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(app):
        await _admin(app, "ops")
        yield app


@pytest.fixture
async def dashboard(dashboard_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=dashboard_app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        yield client


@pytest.fixture
def app_use_cases(dashboard_app: Litestar) -> UseCases:
    use_cases: UseCases = dashboard_app.state.use_cases
    return use_cases


async def _admin(app: Litestar, username: str, role: Role = Role.ADMIN) -> None:
    use_cases: UseCases = app.state.use_cases
    registration = Registration(username, f"{username}@example.com", PASSWORD)
    await use_cases.users.register(SYSTEM, registration, role)


async def _sign_in(client: httpx.AsyncClient, password: str = PASSWORD, username: str = "ops") -> httpx.Response:
    form = await client.get("/admin/sign-in")
    token = _CSRF.search(form.text)
    assert token is not None
    data = {"csrf": token[1], "username": username, "password": password}
    return await client.post("/admin/sign-in", data=data)


async def _csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    token = _CSRF.search(page.text)
    assert token is not None, page.text
    return token[1]


async def test_signing_in_sets_an_http_only_strict_session_cookie_for_the_dashboard_only(
    dashboard: httpx.AsyncClient,
) -> None:
    answer = await _sign_in(dashboard)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("orderline_session="))
    assert {"HttpOnly", "Path=/admin", "SameSite=strict"} <= {part.strip() for part in cookie.split(";")}
    assert "Secure" not in cookie  # plain http here; over https the cookie is Secure


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(dashboard: httpx.AsyncClient) -> None:
    answer = await dashboard.get("/admin/orders")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/sign-in?next=/admin/orders"


async def test_a_sign_in_without_its_csrf_token_is_refused(dashboard: httpx.AsyncClient) -> None:
    await dashboard.get("/admin/sign-in")

    answer = await dashboard.post("/admin/sign-in", data={"username": "ops", "password": PASSWORD})

    assert answer.status_code == 403
    assert "did not come from this dashboard" in answer.text
    assert "orderline_session" not in answer.headers.get("set-cookie", "")


async def test_a_wrong_password_shows_the_apis_refusal_on_the_form(dashboard: httpx.AsyncClient) -> None:
    answer = await _sign_in(dashboard, "not the password at all")

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "the username or the password is wrong" in answer.text


async def test_failed_sign_ins_are_rate_limited_like_the_token_endpoint(dashboard: httpx.AsyncClient) -> None:
    for _ in range(3):
        await _sign_in(dashboard, "not the password at all")

    answer = await _sign_in(dashboard)

    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


async def test_an_unknown_order_is_a_not_found_page(dashboard: httpx.AsyncClient) -> None:
    await _sign_in(dashboard)

    answer = await dashboard.get("/admin/orders/01a22d2b-af6a-760b-95de-87997f565c03")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "order 01a22d2b-af6a-760b-95de-87997f565c03 was not found" in answer.text


async def test_a_filter_that_cannot_be_read_is_shown_on_the_orders_page(dashboard: httpx.AsyncClient) -> None:
    await _sign_in(dashboard)

    answer = await dashboard.get("/admin/orders", params={"from": "yesterday"})

    assert answer.status_code == 422
    assert "give a date as YYYY-MM-DD" in answer.text


async def test_the_overview_answers_on_an_empty_shop_and_on_one_with_orders(
    dashboard: httpx.AsyncClient, app_use_cases: UseCases
) -> None:
    await _sign_in(dashboard)
    empty = await dashboard.get("/admin/")
    pet = await a_pet(app_use_cases, stock=1)
    await an_order(app_use_cases, pet)

    answer = await dashboard.get("/admin/")

    assert empty.status_code == answer.status_code == 200
    assert "Orders per day" in answer.text
    assert "Whiskers" in answer.text  # its only unit is reserved: low stock


@pytest.mark.parametrize(
    "path",
    ["/admin/customers", "/admin/customers?search=op&status=ACTIVE&role=ADMIN", "/admin/audit", "/admin/catalogue",
     "/admin/webhooks", "/admin/audit?entity_type=USER&from=2020-01-01&to=2099-12-31",
     "/admin/orders?status=PLACED&customer=ops"],
)  # fmt: skip
async def test_every_list_page_answers_with_its_filters(dashboard: httpx.AsyncClient, path: str) -> None:
    await _sign_in(dashboard)

    answer = await dashboard.get(path)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")


async def test_suspending_a_customer_needs_a_reason_and_shows_on_their_page(
    dashboard: httpx.AsyncClient, app_use_cases: UseCases
) -> None:
    await _sign_in(dashboard)
    user = await app_use_cases.users.register(SYSTEM, Registration("alice", "alice@example.com", PASSWORD))
    page = await dashboard.get(f"/admin/customers/{user.id}")
    token = _CSRF.search(page.text)
    assert token is not None

    no_reason = await dashboard.post(
        f"/admin/customers/{user.id}/status", data={"csrf": token[1], "status": "SUSPENDED"}
    )
    suspended = await dashboard.post(
        f"/admin/customers/{user.id}/status", data={"csrf": token[1], "status": "SUSPENDED", "reason": "chargebacks"}
    )

    assert no_reason.status_code == 422
    assert "say why" in no_reason.text
    assert suspended.status_code == 303
    shown = await dashboard.get(f"/admin/customers/{user.id}")
    assert "Suspended" in shown.text
    assert "chargebacks" in shown.text


async def test_editing_a_pets_stock_goes_through_the_catalogue_and_a_refusal_is_shown(
    dashboard: httpx.AsyncClient, app_use_cases: UseCases
) -> None:
    await _sign_in(dashboard)
    pet = await a_pet(app_use_cases, stock=2)
    await an_order(app_use_cases, pet, quantity=2)
    listing = await dashboard.get("/admin/catalogue")
    token = _CSRF.search(listing.text)
    assert token is not None

    too_few = await dashboard.post(f"/admin/catalogue/{pet.id}/stock", data={"csrf": token[1], "total": "1"})
    more = await dashboard.post(f"/admin/catalogue/{pet.id}/stock", data={"csrf": token[1], "total": "5"})

    assert too_few.status_code in {409, 422}, too_few.text
    assert more.status_code == 303
    assert (await app_use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.free == 3


# Every page a signed-in person can reach: no broken link, and no control without a label. A crawl from /admin/
# over a shop with orders in several statuses and a customer, following every link (the stylesheet and the
# script included).
MAX_PAGES = 80
UNLABELLED_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})


class _Page(HTMLParser):
    """The links, the controls and the labels of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in {"a", "link"} and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag == "script" and attributes.get("src"):
            self.links.append(attributes["src"] or "")
        elif tag == "label":
            self._in_label += 1
            if attributes.get("for"):
                self.labelled.add(attributes["for"] or "")
        elif tag in {"input", "select", "textarea"} and attributes.get("type") not in UNLABELLED_TYPES:
            self.controls.append(attributes | {"_wrapped": "yes" if self._in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1

    def unlabelled(self) -> list[dict[str, str | None]]:
        return [c for c in self.controls
                if not (c.get("_wrapped") or c.get("aria-label") or c.get("id") in self.labelled)]  # fmt: skip


async def _a_shop(use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, stock=10)
    for status in ("PLACED", "APPROVED", "SHIPPED", "DELIVERED"):
        await in_status(use_cases, pet, status)
    cancelled = await an_order(use_cases, pet)
    await use_cases.orders.cancel(ADMIN, CancelOrder(cancelled.id))
    await use_cases.users.register(SYSTEM, Registration("alice", "alice@example.com", PASSWORD))


async def test_every_page_has_labels_on_its_controls_and_no_broken_link(
    dashboard: httpx.AsyncClient, app_use_cases: UseCases
) -> None:
    await _a_shop(app_use_cases)
    await _sign_in(dashboard)
    to_visit, seen, broken, unlabelled = ["/admin/"], set[str](), [], []

    while to_visit and len(seen) < MAX_PAGES:
        path = to_visit.pop()
        if path in seen:
            continue
        seen.add(path)
        answer = await dashboard.get(path)
        if answer.status_code >= 400:
            broken.append(f"{path} -> {answer.status_code}")
            continue
        if not answer.headers["content-type"].startswith("text/html"):
            continue
        parsed = _Page()
        parsed.feed(answer.text)
        unlabelled += [f"{path}: {control}" for control in parsed.unlabelled()]
        for link in parsed.links:
            target = urlsplit(urljoin(path, link))
            if not target.netloc and target.path.startswith("/"):
                to_visit.append(target.path + (f"?{target.query}" if target.query else ""))

    assert broken == []
    assert unlabelled == []
    assert len(seen) > 10, seen  # the crawl reached the orders, a customer, the static files


async def test_a_dead_delivery_is_shown_with_its_last_answer_and_sent_again_on_replay(
    dashboard: httpx.AsyncClient, app_use_cases: UseCases, db: Db
) -> None:
    await _sign_in(dashboard)
    hook = await app_use_cases.webhooks.create(ADMIN, WebhookDraft("http://127.0.0.1:9/in", ["order.*"]))
    dead = await a_delivery(db, hook.id, await an_event(db), status="DEAD", attempts=8, code=500, response="boom")
    shown = await dashboard.get(f"/admin/webhooks/{hook.id}")
    token = _CSRF.search(shown.text)
    assert token is not None

    replayed = await dashboard.post(f"/admin/webhooks/{hook.id}/deliveries/{dead}/replay", data={"csrf": token[1]})

    assert "Dead" in shown.text
    assert "boom" in shown.text
    assert replayed.status_code == 303
    again = await app_use_cases.webhooks.deliveries(ADMIN, hook.id, limit=10)
    assert [(d.id, d.status, d.attempts) for d in again.items] == [(dead, DeliveryStatus.PENDING, 0)]


async def test_after_signing_out_a_copy_of_the_session_cookie_opens_nothing(dashboard: httpx.AsyncClient) -> None:
    await _sign_in(dashboard)
    copied = dashboard.cookies.get("orderline_session", path="/admin")
    page = await dashboard.get("/admin/orders")
    token = _CSRF.search(page.text)
    assert copied is not None
    assert token is not None

    await dashboard.post("/admin/sign-out", data={"csrf": token[1]})
    dashboard.cookies.set("orderline_session", copied, path="/admin")
    answer = await dashboard.get("/admin/orders")

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/sign-in")


async def test_a_stock_edit_made_on_a_page_gone_stale_is_refused_with_the_problems_detail(
    dashboard: httpx.AsyncClient, app_use_cases: UseCases
) -> None:
    await _sign_in(dashboard)
    pet = await a_pet(app_use_cases, stock=2)
    token = await _csrf_of(dashboard, "/admin/catalogue")  # the page shows the pet at its version
    draft = PetDraft(pet.profile, 7)
    await app_use_cases.catalogue.revise_pet(SYSTEM, pet.id, draft)  # someone else's edit meanwhile

    stale = await dashboard.post(f"/admin/catalogue/{pet.id}/stock",
                                 data={"csrf": token, "total": "3", "version": str(pet.version)})  # fmt: skip

    assert stale.status_code == 412
    assert "has changed" in stale.text
    assert (await app_use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.total == 7


async def test_support_staff_sign_in_and_force_cancel_a_shipped_order_with_a_reason(
    dashboard: httpx.AsyncClient, dashboard_app: Litestar, app_use_cases: UseCases
) -> None:
    await _admin(dashboard_app, "helpdesk", Role.SUPPORT)
    shipped = await in_status(app_use_cases, await a_pet(app_use_cases), "SHIPPED")
    await _sign_in(dashboard, username="helpdesk")
    page = await dashboard.get(f"/admin/orders/{shipped.id}")
    data = {"csrf": await _csrf_of(dashboard, f"/admin/orders/{shipped.id}"), "reason": "FRAUD",
            "version": str(shipped.version)}  # fmt: skip

    answer = await dashboard.post(f"/admin/orders/{shipped.id}/force-cancel", data=data)

    assert 'action="/admin/orders/' + str(shipped.id) + '/force-cancel"' in page.text
    assert "/erase" not in page.text  # never offered to support
    assert answer.status_code == 303
    assert (await app_use_cases.orders.get(SYSTEM, shipped.id)).status in {"CANCELLED", "CANCEL_PENDING"}


async def test_an_erasure_by_support_staff_is_refused_with_the_problems_detail(
    dashboard: httpx.AsyncClient, dashboard_app: Litestar, app_use_cases: UseCases
) -> None:
    await _admin(dashboard_app, "helpdesk", Role.SUPPORT)
    order = await an_order(app_use_cases, await a_pet(app_use_cases))
    await _sign_in(dashboard, username="helpdesk")
    data = {"csrf": await _csrf_of(dashboard, f"/admin/orders/{order.id}"), "confirm": order.number}

    answer = await dashboard.post(f"/admin/orders/{order.id}/erase", data=data)

    assert answer.status_code == 403
    assert "admin" in answer.text
    assert (await app_use_cases.orders.get(SYSTEM, order.id)).id == order.id


@pytest.mark.parametrize("path", ["/admin/customers", "/admin/webhooks"])
async def test_support_staff_are_refused_the_pages_that_manage_users_and_webhooks(
    dashboard: httpx.AsyncClient, dashboard_app: Litestar, path: str
) -> None:
    await _admin(dashboard_app, "helpdesk", Role.SUPPORT)
    await _sign_in(dashboard, username="helpdesk")

    answer = await dashboard.get(path)

    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")


async def test_support_staff_may_not_edit_stock_on_the_catalogue_page(
    dashboard: httpx.AsyncClient, dashboard_app: Litestar, app_use_cases: UseCases
) -> None:
    await _admin(dashboard_app, "helpdesk", Role.SUPPORT)
    pet = await a_pet(app_use_cases, stock=2)
    await _sign_in(dashboard, username="helpdesk")
    data = {"csrf": await _csrf_of(dashboard, "/admin/catalogue"), "total": "5"}

    answer = await dashboard.post(f"/admin/catalogue/{pet.id}/stock", data=data)

    assert answer.status_code == 403
    assert (await app_use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.total == 2


async def _bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post("/v1/auth/tokens", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_the_api_lets_support_staff_do_what_the_dashboard_does_and_refuses_the_rest(
    dashboard: httpx.AsyncClient, dashboard_app: Litestar, app_use_cases: UseCases
) -> None:
    await _admin(dashboard_app, "helpdesk", Role.SUPPORT)
    pet = await a_pet(app_use_cases, stock=3)
    shipped = await in_status(app_use_cases, pet, "SHIPPED")
    other = await an_order(app_use_cases, pet)
    headers = await _bearer(dashboard, "helpdesk")

    listed = await dashboard.get("/v1/admin/orders", headers=headers)
    forced = await dashboard.post(f"/v1/admin/orders/{shipped.id}/force-cancel", json={"reason": "FRAUD"},
                                  headers=headers)  # fmt: skip
    erase = await dashboard.delete(f"/v1/admin/orders/{other.id}", headers=headers)
    users = await dashboard.get("/v1/admin/users", headers=headers)
    stock = await dashboard.put(f"/v1/pets/{pet.id}", json={"name": "Rex", "species": "DOG", "fee": "1.00",
                                                            "stock": 9}, headers=headers)  # fmt: skip

    assert listed.status_code == 200
    assert {order["id"] for order in listed.json()["data"]} == {str(shipped.id), str(other.id)}
    assert forced.status_code in {200, 202}, forced.text
    assert (erase.status_code, users.status_code, stock.status_code) == (403, 403, 403)
