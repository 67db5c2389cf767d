"""The sFOX REST dialect, mounted at /sfox/v1: cancel one or many orders, read open orders and one order."""

from __future__ import annotations

from orderline.http.dialects import Dialect
from orderline.http.dialects.sfox.errors import render_error
from orderline.http.dialects.sfox.routes import ROUTES

DIALECT = Dialect(name="sfox", prefix="/sfox/v1", tag="sFOX REST", route_handlers=ROUTES, render_error=render_error)
