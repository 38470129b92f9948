"""Bearer tokens for links (gift links, group invitations and join links): 192 random bits,
signed with a salt of their own (a token that was never issued is refused without a query),
and kept only as a SHA-256 digest, so the database never holds a working link."""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

MAX_LENGTH = 120


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignedTokens:
    """The tokens of one kind: `salt` keeps one kind's token from passing as another's."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def _signer(self) -> signing.Signer:
        return signing.Signer(salt=self.salt, sep=".")

    def new(self) -> str:
        """A fresh token: `<32 url-safe chars (192 bits)>.<signature>`."""
        return self._signer().sign(secrets.token_urlsafe(24))

    def well_formed(self, token: str) -> bool:
        """Signed by this site for this kind: anything else costs no query."""
        if not token or len(token) > MAX_LENGTH or not token.isascii():
            return False
        try:
            self._signer().unsign(token)
        except signing.BadSignature:
            return False
        return True
