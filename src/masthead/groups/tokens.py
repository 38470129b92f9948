"""Invitation and join-link tokens (`masthead.core.tokens`): only their digest is stored."""

from __future__ import annotations

from masthead.core.tokens import SignedTokens, digest

_TOKENS = SignedTokens("masthead.groups.token")
new_token = _TOKENS.new
well_formed = _TOKENS.well_formed

__all__ = ["digest", "new_token", "well_formed"]
