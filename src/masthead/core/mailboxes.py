"""One reader's mailbox, whatever form of its address they type.

`canonical_mailbox("Ana.Petrova+news@GoogleMail.com") == "anapetrova@gmail.com"`: case is
ignored, a plus tag is dropped (every large provider delivers `a+x@` to `a@`), and for the
providers that ignore dots in the local part (Gmail) so are the dots. Used where "one reader"
must not be multiplied by aliases (trial eligibility); never to send mail. Lives in `core`
because domains below `accounts` need it. See docs/decisions/0016-invalid-input-and-mailboxes.md.
"""

from __future__ import annotations

import contextlib

# Providers whose mailboxes ignore dots in the local part, and their aliases for one another.
DOTS_IGNORED = frozenset({"gmail.com"})
SAME_PROVIDER = {"googlemail.com": "gmail.com"}


def canonical_mailbox(address: str) -> str:
    """The mailbox `address` delivers to, as a lower-case `local@domain` string."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return address.strip().lower()
    domain = domain.strip().rstrip(".").lower()
    # A name IDNA cannot encode is compared as typed (lower-cased).
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    domain = SAME_PROVIDER.get(domain, domain)
    local = local.lower()
    untagged = local.split("+", 1)[0]
    local = untagged or local  # "+tag@" alone is not a tag on an empty name
    if domain in DOTS_IGNORED:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"
