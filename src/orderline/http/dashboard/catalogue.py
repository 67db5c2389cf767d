"""The Catalogue & stock page: every pet with its units free, reserved and sold, and its stock to edit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orderline.application import errors as app
from orderline.application.catalogue import PetDraft
from orderline.application.principal import Principal
from orderline.application.use_cases import UseCases
from orderline.domain.errors import DomainError
from orderline.domain.pet import Species
from orderline.http.dashboard import forms
from orderline.http.dashboard.pages import page, problem_of, status_and_error
from orderline.http.dashboard.session import PREFIX
from orderline.http.dependencies import Injected

PAGE_SIZE = 50


class CataloguePages(Controller):
    path = "/catalogue"

    @get("/", media_type=MediaType.HTML)
    async def catalogue(
        self, request: Request[Any, Any, Any], use_cases: Injected[UseCases], staff: Injected[Principal]
    ) -> Template:
        return await _catalogue_page(request, use_cases, staff)

    @post("/{pet_id:uuid}/stock", media_type=MediaType.HTML)
    async def set_stock(
        self,
        request: Request[Any, Any, Any],
        use_cases: Injected[UseCases],
        staff: Injected[Principal],
        pet_id: FromPath[UUID],
    ) -> Any:
        form = await request.form()
        try:
            total = forms.whole(form, "total")
            if total is None:
                raise app.InvalidInput("total", "give how many units the shop has had in all", "required")
            pet = await use_cases.catalogue.get_pet(staff.tenant, pet_id)
            draft = PetDraft(pet.profile, total)
            await use_cases.catalogue.revise_pet(staff, pet_id, draft, expected_version=forms.version(form))
        except (DomainError, app.ApplicationError) as refused:
            if isinstance(refused, app.Unauthenticated):
                raise
            return await _catalogue_page(request, use_cases, staff, refused)
        return Redirect(f"{PREFIX}/catalogue?{request.url.query}#pet-{pet_id}", status_code=303)


async def _catalogue_page(
    request: Request[Any, Any, Any],
    use_cases: UseCases,
    staff: Principal,
    refused: DomainError | app.ApplicationError | None = None,
) -> Template:
    query = request.query_params
    context: dict[str, Any] = {"query": query, "species": list(Species), "pets": [], "next": None}
    status, error = status_and_error(request, refused)
    try:
        found = await use_cases.catalogue.list_pets(
            staff.tenant,  # the session's tenant's pets only (ADR 0043)
            species=forms.choice(query, "species", Species),
            limit=PAGE_SIZE,
            cursor=forms.text(query, "cursor"),
        )
    except (DomainError, app.ApplicationError) as unreadable:
        status, _title, error = problem_of(request, unreadable)
        return page(request, "catalogue.html", status, error=error, **context)
    more = None if found.next_cursor is None else forms.continued(f"{PREFIX}/catalogue", query, found.next_cursor)
    context |= {"pets": found.items, "next": more}
    return page(request, "catalogue.html", status, error=error, **context)
