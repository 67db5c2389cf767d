"""GET /: a small HTML page naming the service and its version, linking the API docs and the health checks."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import MediaType, Request, get

from orderline import __version__
from orderline.http.access import public

# Linked when the service has them, so the page never shows a dead link.
HEALTH_CHECKS = (
    ("/v1/livez", "the process is up"),
    ("/v1/readyz", "ready for traffic: the database is reachable and at the newest schema"),
    ("/v1/healthz", "the database is reachable"),
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orderline {version}</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem;
line-height: 1.5 }} code {{ font-size: 0.95em }}</style>
</head>
<body>
<h1>orderline</h1>
<p>An order-lifecycle service, version {version}. Its API is under <code>/v1</code>.</p>
<h2>API</h2>
<ul>
<li><a href="/schema/swagger">API docs</a> (Swagger UI, served by this service: no internet needed)</li>
<li><a href="/schema/openapi.json">OpenAPI 3.1 document</a></li>
</ul>
<h2>Health checks</h2>
<ul>
{checks}
</ul>
<h2>Dashboard</h2>
<p>Not yet: this version has no staff dashboard. Use the API, or the <code>orderline</code> command line.</p>
</body>
</html>
"""


@get("/", **public(), media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def home(request: Request[Any, Any, Any]) -> str:
    served = {route.path for route in request.app.routes}
    checks = "\n".join(
        f'<li><a href="{path}"><code>{path}</code></a>: {escape(meaning)}</li>'
        for path, meaning in HEALTH_CHECKS
        if path in served
    )
    return _PAGE.format(version=escape(__version__), checks=checks)
