"""Store-wide routes: the inventory, and the health probes."""

from __future__ import annotations

import msgspec
from litestar import get

from orderline.application.ports import StockCounts
from orderline.application.use_cases import UseCases
from orderline.http.access import public
from orderline.http.api.examples import HEALTH_EXAMPLE, INVENTORY_EXAMPLE, READY_EXAMPLE
from orderline.http.dependencies import Injected, Tenant
from orderline.http.openapi import problems, success


class InventoryOut(msgspec.Struct, rename="camel"):
    """Units of stock: free to order, held by open orders, sold; ``bySpecies`` counts free units."""

    available: int
    pending: int
    adopted: int
    total: int
    by_species: dict[str, int]


@get(
    "/inventory",
    **public(),
    operation_id="getInventory",
    summary="Get Store Inventory",
    tags=["Store"],
    responses=success(200, InventoryOut, INVENTORY_EXAMPLE, "stock units by status") | problems(),
)
async def inventory(use_cases: Injected[UseCases], tenant: Tenant) -> InventoryOut:
    found = await use_cases.catalogue.inventory(tenant)
    counts: StockCounts = found.counts
    by_species = {str(species): c.available for species, c in found.by_species.items()}
    return InventoryOut(counts.available, counts.pending, counts.adopted, counts.total, by_species)


class HealthOut(msgspec.Struct):
    status: str
    database: str


class ReadyOut(msgspec.Struct):
    """Ready: the database answered and is at ``schema``, the newest revision this version ships."""

    status: str
    database: str
    schema: str


# The probes answer 503 service-unavailable when the database does not answer within the statement
# timeout; the rate limiter never refuses them (http/probes.py PROBE_PATHS).


@get(
    "/healthz",
    **public(),
    operation_id="getHealth",
    summary="Health: the service and its database answer",
    tags=["Operations"],
    responses=success(200, HealthOut, HEALTH_EXAMPLE, "the database answered") | problems("service-unavailable"),
)
async def healthz(use_cases: Injected[UseCases]) -> HealthOut:
    await use_cases.health.database_reachable()
    return HealthOut("ok", "ok")


@get(
    "/readyz",
    **public(),
    operation_id="getReadiness",
    summary="Readiness: the database answers and is at the newest schema",
    tags=["Operations"],
    responses=success(200, ReadyOut, READY_EXAMPLE, "ready to take traffic") | problems("service-unavailable"),
)
async def readyz(use_cases: Injected[UseCases]) -> ReadyOut:
    return ReadyOut("ok", "ok", await use_cases.health.ready())


@get(
    "/livez",
    **public(),
    operation_id="getLiveness",
    summary="Liveness: the process answers (touches nothing else)",
    tags=["Operations"],
    responses=success(200, HealthOut, {"status": "ok", "database": "unchecked"}, "alive") | problems(),
)
async def livez() -> HealthOut:
    return HealthOut("ok", "unchecked")
