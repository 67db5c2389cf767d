"""Every text the wire accepts fits the column it is stored in, and reads back as it was sent, on each engine.

PostgreSQL refuses a value longer than its VARCHAR (a 500); SQLite stores it whatever its length. So each
property draws texts at the longest the request structs allow, from all of Unicode (astral characters, and
characters whose lower case is longer, such as "İ"), decodes them with the wire struct exactly as a request
is read, and stores them through the use cases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from orderline.application.orders import LineRequest, PlaceOrder
from orderline.application.principal import ANONYMOUS, PUBLIC
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.domain.errors import DomainError
from orderline.http.api.order_wire import AddressIn
from orderline.http.api.pets import PetIn
from orderline.http.api.users import RegistrationIn
from tests.support import ADMIN, ANYONE, FAST_HASHER, a_pet, engine_settings

T = TypeVar("T")
# What a request can carry in a string: anything but NUL (refused before decoding) and lone surrogates
# (which are not UTF-8, so not JSON a client can send).
TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
AT_MOST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mixed(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Texts of any characters, often "İ" (two code points once lower-cased), "ß" and astral characters."""
    characters = st.sampled_from("İß\U0001f600") | TEXT
    return st.lists(characters, min_size=min_size, max_size=max_size).map("".join)


def _longest(size: int) -> st.SearchStrategy[str]:
    """Texts of exactly ``size`` characters with something in them."""
    return _mixed(size, size).filter(str.strip)


class Engine:
    """The use cases on the test's database, driven from synchronous Hypothesis examples."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.use_cases: UseCases = self.run(build(engine_settings(database_url), hasher=FAST_HASHER))
        except BaseException:
            self.loop.close()  # or its self-pipe is left for the garbage collector to complain about
            raise

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        self.run(self.use_cases.close())
        self.loop.close()


@pytest.fixture
def engine(fresh_database: Callable[[], str]) -> Iterator[Engine]:
    running = Engine(fresh_database())
    try:
        yield running
    finally:
        running.close()


def _wire(struct: type[T], body: dict[str, Any]) -> T:
    """The body as the API reads it (strictly, with the struct's limits); examples it refuses are skipped."""
    try:
        return msgspec.json.decode(msgspec.json.encode(body), type=struct, strict=True)
    except msgspec.ValidationError:
        assume(False)
        raise


@AT_MOST
@given(name=_longest(200), breed=_longest(200), color=_longest(100))
def test_a_pet_with_the_longest_texts_is_stored_and_read_back_unchanged(
    engine: Engine, name: str, breed: str, color: str
) -> None:
    sent = _wire(PetIn, {"name": name, "breed": breed, "color": color, "species": "CAT", "adoptionFee": "1.00"})

    pet = engine.run(engine.use_cases.catalogue.add_pet(ADMIN, sent.draft()))

    stored = engine.run(engine.use_cases.catalogue.get_pet(PUBLIC, pet.id)).profile
    assert (stored.name, stored.breed, stored.color) == (name, breed, color)


@AT_MOST
@given(first=_longest(100), last=_longest(100), local=_mixed(min_size=1, max_size=64))
def test_a_user_with_the_longest_texts_is_stored_or_refused_and_never_breaks_a_column(
    engine: Engine, first: str, last: str, local: str
) -> None:
    email = f"{local}@{'d' * (249 - len(local))}.com"  # 254 characters, often longer once lower-cased
    sent = _wire(RegistrationIn, {"username": "someone", "email": email, "password": "correct horse battery",
                                  "firstName": first, "lastName": last, "phone": "+44 (20) 7946-0958"})  # fmt: skip

    try:
        user = engine.run(engine.use_cases.users.register(ANONYMOUS, sent.registration()))
    except DomainError:
        return  # refused with a problem naming the field (the email, say): nothing was stored

    stored = engine.run(engine.use_cases.users.get(ADMIN, user.id))
    engine.run(engine.use_cases.users.delete(ADMIN, user.id))  # the next example registers "someone" too
    assert (stored.first_name, stored.last_name, stored.email) == (first, last, email.lower())


@AT_MOST
@given(line=_longest(200), city=_longest(100), state=_longest(100), postal=_longest(20))
def test_a_billing_address_with_the_longest_texts_is_stored_and_read_back_unchanged(
    engine: Engine, line: str, city: str, state: str, postal: str
) -> None:
    sent = _wire(AddressIn, {"line1": line, "line2": line, "city": city, "state": state, "postalCode": postal,
                             "country": "GB"})  # fmt: skip
    pet = engine.run(a_pet(engine.use_cases))

    placed = engine.run(
        engine.use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(pet.id, 1)], billing_address=sent.address()))
    )

    stored = engine.run(engine.use_cases.orders.get(ADMIN, placed.order.id)).billing_address
    assert stored == sent.address()
