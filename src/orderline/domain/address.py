"""A postal address, as an order's billing address: the fields a payment provider asks for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orderline.domain.errors import InvalidAddress

COUNTRY = "^[A-Z]{2}$"  # ISO 3166-1 alpha-2; checked with fullmatch, so no trailing newline slips through
_COUNTRY = re.compile(COUNTRY)


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        for name in ("line1", "city", "postal_code"):
            if not getattr(self, name).strip():
                raise InvalidAddress(f"{name} is required", field=name)
        if not _COUNTRY.fullmatch(self.country):
            raise InvalidAddress("country is an ISO 3166-1 alpha-2 code such as GB or US", field="country")
