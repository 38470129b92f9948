"""Invitation and join-link tokens: 192 random bits, signed (a wrong token costs no query),
kept only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

_SALT = "masthead.groups.token"
MAX_LENGTH = 120


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, sep=".")


def new_token() -> str:
    return _signer().sign(secrets.token_urlsafe(24))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    if not token or len(token) > MAX_LENGTH or not token.isascii():
        return False
    try:
        _signer().unsign(token)
    except signing.BadSignature:
        return False
    return True
