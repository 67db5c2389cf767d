"""Serving the app: uvicorn with the limits a server facing untrusted clients needs (ADR 0016)."""
