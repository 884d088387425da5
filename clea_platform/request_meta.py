"""The client's address, by one rule for every rate limit, throttle, audit row and login lockout.

The platform is told how many reverse proxies of its own stand in front of it (settings.TRUSTED_PROXY_COUNT). Each
of them appends to X-Forwarded-For the address it received the request from, after whatever the client sent; so
the client is the entry the outermost proxy wrote, the N-th from the right, and everything left of it may be
forged. With no proxy (the default) the header is ignored: the client is the socket's peer. django-ipware reads the
header (IPv6, ports, RFC 7239 forms, malformed entries), with the position fixed by the count, never its guess."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def _peer(request: HttpRequest) -> str | None:
    address, _routable = get_client_ip(request, request_header_order=["REMOTE_ADDR"], algorithm="modern")
    return address


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, or None when the request carries none that reads as one."""
    if request is None:
        return None
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # ipware's count is of the proxies listed after the client in the header; the last of ours is the socket's
        # peer and lists nobody after it, so N proxies in front leave N - 1 entries right of the client's.
        # Not strict: what the client sent before them is ignored, however long or malformed.
        forwarded, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
            algorithm="modern",
        )
        if forwarded:
            return forwarded
        # Fewer entries than proxies, or an unreadable one where ours write: the request did not come through all
        # of them (or a forged quote swallowed the rest). Its peer, never a value of the client's choosing.
    return _peer(request)
