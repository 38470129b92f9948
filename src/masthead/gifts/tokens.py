"""Gift tokens: 192 random bits, signed (a wrong token is refused without a query), and kept
only as a SHA-256 digest, so the database never holds a working link."""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

_SALT = "masthead.gifts.token"
_SIGNER_SEP = "."
MAX_LENGTH = 120


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, sep=_SIGNER_SEP)


def new_token() -> str:
    """A fresh token: `<32 url-safe chars (192 bits)>.<signature>`."""
    return _signer().sign(secrets.token_urlsafe(24))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Signed by this site: anything else is not a gift and costs no query."""
    if not token or len(token) > MAX_LENGTH or not token.isascii():
        return False
    try:
        _signer().unsign(token)
    except signing.BadSignature:
        return False
    return True
