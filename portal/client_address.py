"""The address of the client behind a request: the one rule every throttle, the page throttles and the login
lockout key their counts on.

``PORTAL_TRUSTED_PROXIES`` says how many proxies of our own stand between the client and the server (nginx:
1). Each of them appends the address it received the request from to ``X-Forwarded-For``, so the client's
address is the entry that many hops from the right; anything to its left was written by the client and is
ignored (a forged header cannot move a client to another count). With 0, or with a header shorter than the
number of proxies (the request did not come through them), the address is ``REMOTE_ADDR``. DRF's own
``NUM_PROXIES`` setting is set from the same number (portal/settings/base.py).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address, ``PORTAL_TRUSTED_PROXIES`` hops from the right of ``X-Forwarded-For``."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PORTAL_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < proxies or not hops[-proxies]:
        return remote
    return hops[-proxies]


def client_ident(request: HttpRequest) -> str:
    """What a client's counts are kept under: its address, or for IPv6 its /64 network (one subscriber's
    allocation: a client can take any address within it)."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
