"""The shop's order-callback secret: what signs every order callback (POST /v1/orders/{id}), so receivers verify
them as any webhook (ADR 0030)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from orderline.config import webhook_secret_bytes

# Domain separation: the derived key is independent of the secret it comes from, and of any other derived one.
_PURPOSE = b"orderline order callbacks v1"


def callback_secret(configured: str | None, test_gateway_secret: str) -> str:
    """ORDERLINE_CALLBACK_SECRET when set; else a Standard Webhooks secret derived (HMAC-SHA256) from the key
    file's (or the environment's) test gateway secret, so every process of one shop signs alike."""
    if configured:
        return configured
    derived = hmac.new(webhook_secret_bytes(test_gateway_secret), _PURPOSE, hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(derived).decode()
