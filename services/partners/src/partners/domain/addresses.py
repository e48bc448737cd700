"""Which addresses a webhook may be delivered to (SSRF protection), decided with the ``ipaddress``
module's own properties rather than hand-written ranges.

Refused: loopback, private (RFC 1918, unique-local fc00::/7), link-local (169.254/16, fe80::/10),
multicast, unspecified (0.0.0.0, ::), reserved, cloud metadata addresses (169.254.169.254,
fd00:ec2::254, 100.100.100.200), and anything else that is not globally routable (shared address
space 100.64/10, documentation and benchmark ranges). An IPv6 address that embeds an IPv4 one
(IPv4-mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64 64:ff9b::/96) is judged by the IPv4 address inside.
Loopback can be allowed for tests and development (``ALLOW_LOOPBACK_ENDPOINTS``); production refuses it.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str | IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a delivery may not connect to ``address`` (a short phrase), or None when it may."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return "a scoped IPv6 address"
    inner = embedded_ipv4(ip)
    if inner is not None:
        why = refusal(inner, allow_loopback=allow_loopback)
        return f"{why} (inside the IPv6 address)" if why else None
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public address"
    return None
