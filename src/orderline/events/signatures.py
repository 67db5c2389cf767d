"""Signing a delivery: the Standard Webhooks headers, and the Pet Store's ``X-Webhook-Signature`` beside them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from standardwebhooks import Webhook

PREFIX = "whsec_"


def key_of(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret, read as the standardwebhooks library reads it."""
    return base64.b64decode(secret.removeprefix(PREFIX) + "==")


def signed_headers(secrets: Sequence[str], event_id: UUID, at: datetime, body: bytes) -> dict[str, str]:
    """The headers that let a receiver check ``body`` came from us, unchanged, and recently.

    ``webhook-id`` is the event's id, the same on every attempt, so a receiver can drop a repeat.
    ``webhook-signature`` holds one ``v1,<base64>`` per secret, space-separated (during a rotation, the
    new secret's and the previous one's), each HMAC-SHA256 of ``id.timestamp.body``.
    ``X-Webhook-Signature`` is ``t=<timestamp>,v1=<hex>[,v1=<hex>]``: hex HMAC-SHA256 of ``timestamp.body``
    with the same keys, for receivers written against the Pet Store's header.
    """
    timestamp = int(at.timestamp())
    text = body.decode()
    standard = [Webhook(secret).sign(str(event_id), at, text) for secret in secrets]
    pet_store = [
        hmac.new(key_of(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest() for secret in secrets
    ]
    return {
        "webhook-id": str(event_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard),
        "X-Webhook-Signature": ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in pet_store)]),
    }
