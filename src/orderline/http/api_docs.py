"""The API docs UI: Swagger UI served from files vendored in the package, never from a CDN (ADR 0017)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from orderline.http.access import public

SWAGGER_UI_VERSION = "5.35.0"  # swagger-ui-dist; scripts/vendor-swagger-ui copies this version into the package
ASSETS = "/static/swagger-ui"
_ONE_DAY = 24 * 60 * 60


def swagger_ui() -> SwaggerRenderPlugin:
    """Litestar's Swagger page, loading its script, stylesheet and icon from ``ASSETS``."""
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


def swagger_ui_assets() -> Router:
    """The vendored files, to anyone; a browser may keep them a day."""
    # An installed wheel is unpacked on disk, so the package's folder is a real directory to serve from.
    folder = Path(str(files("orderline.http") / "static" / "swagger-ui"))
    return create_static_files_router(
        path=ASSETS,
        directories=[folder],
        name="swagger-ui",
        cache_control=CacheControlHeader(public=True, max_age=_ONE_DAY),
        include_in_schema=False,
        **public(),
    )
