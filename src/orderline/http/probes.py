"""The orchestrator's probes: paths that answer whatever else is sick, and so never wait on anything optional."""

from __future__ import annotations

# Liveness, health and readiness. /v1/readyz is listed before its route exists, so that it is exempt
# from the first day it answers.
PROBE_PATHS = frozenset({"/v1/livez", "/v1/healthz", "/v1/readyz"})
