"""The HMAC-SHA256 scheme of our webhooks, both ways: the commerce systems sign what
they send us, and the outbox signs what we send them."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "x-member-api-timestamp"
SIGNATURE_HEADER = "x-member-api-signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `timestamp.body` under `secret`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()
