"""Who is asking: the client's address, believed from X-Forwarded-For only through a proxy
listed in MASTHEAD_TRUSTED_PROXIES (anyone can send the header; only our proxy's word counts)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(address: str) -> bool:
    """True when `address` is one of the configured proxies (addresses or CIDR networks)."""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def from_trusted_proxy(request: HttpRequest) -> bool:
    return is_trusted_proxy(request.META.get("REMOTE_ADDR", ""))


def client_ip(request: HttpRequest) -> str:
    """The address of the client: REMOTE_ADDR, or, when that is a trusted proxy, the nearest
    address in X-Forwarded-For that is not itself a trusted proxy (the one our proxy saw)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if not is_trusted_proxy(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a damaged header: trust no part of it
        if not is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else remote


def coarse_network(address: str) -> str:
    """The network an address belongs to, coarse enough to say "home" or "office" without
    keeping the address: an IPv4 /24 or an IPv6 /48 ("unknown" for anything else)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
