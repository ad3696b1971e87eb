"""Rate limits of the REST and OPTIMADE APIs, anonymous (per address) and per user.

DRF's own throttles keep every request's timestamp of the last period in one cached list, read, trimmed and
written back whole on each request: at a high rate that list grows to thousands of entries, and two processes
sharing a cache can lose each other's requests between the read and the write. These count instead: one
counter per client and period window, incremented atomically where the cache can (``incr``; atomic in Redis),
and the rate estimated over a sliding period as the current window's count plus the previous window's weighted
by the part of it still inside the period, rounded up. So a client never gets more than its rate within one
window, nor more than twice its rate in any period (the worst case: requests bunched at the end of a window),
and close to its rate for ordinary traffic. Rates are read from the settings on every request, so a deployment or a test can change
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` at run time.

Every count is kept per client as :func:`portal.client_address.client_ident` names it (the address behind the
trusted proxies, never one the client wrote itself). The pages and the sign-in have their own scopes
(``page_anon``, ``page_user``, ``login``), applied by :class:`portal.middleware.PageThrottleMiddleware`, and so
does OPTIMADE (``optimade``, applied by :func:`portal.optimade.views.optimade_view`).

A refused request is told when to come back: :meth:`SlidingWindowCounter.wait` gives whole seconds, at least 1,
which every 429 carries as ``Retry-After`` (DRF writes the header from it; the pages and OPTIMADE write it
themselves, OPTIMADE also as ``meta.request_delay``).
"""

import math

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from portal.client_address import client_ident


def _rate(scope: str) -> str | None:
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)


class SlidingWindowCounter:
    """Mixin over DRF's ``SimpleRateThrottle`` (its rate parsing, cache and cache keys)."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)

    def get_ident(self, request) -> str:
        return client_ident(request)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window, position = divmod(now, self.duration)
        current_key, previous_key = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        counts = self.cache.get_many([previous_key, current_key])
        self.previous, self.current = counts.get(previous_key, 0), counts.get(current_key, 0)
        self.elapsed = position / self.duration  # part of the current window gone, in [0, 1)
        if math.ceil(self.previous * (1 - self.elapsed) + self.current) >= self.num_requests:
            return False
        if not self.cache.add(current_key, 1, 2 * self.duration):
            try:
                self.cache.incr(current_key)
            except ValueError:  # expired between the two calls
                self.cache.set(current_key, 1, 2 * self.duration)
        return True

    def wait(self) -> int:
        """Whole seconds (at least 1) until the estimate drops below the rate, after a refused request: the
        ``Retry-After`` of the 429. The estimate only falls as time passes, so rounding up never lets a client
        that waits as told be refused again."""
        left = (1 - self.elapsed) * self.duration
        if self.current >= self.num_requests:  # wait into the next window, where this one counts weighted
            seconds = left + self.duration * (1 - (self.num_requests - 1) / self.current)
        elif self.previous:
            seconds = (
                1 - self.elapsed - (self.num_requests - 1 - self.current) / self.previous
            ) * self.duration
        else:
            seconds = left
        return max(1, math.ceil(seconds))


class AnonThrottle(SlidingWindowCounter, AnonRateThrottle):
    pass


class UserThrottle(SlidingWindowCounter, UserRateThrottle):
    pass


class PageAnonThrottle(AnonThrottle):
    scope = "page_anon"


class PageUserThrottle(UserThrottle):
    scope = "page_user"


class OptimadeThrottle(UserThrottle):
    """OPTIMADE's own limit (``optimade``), per user where one is signed in and per address otherwise: generous by
    default, since OPTIMADE clients (the official validator, pymatgen's ``OptimadeRester``) page through results
    unpaced, and the pages they read are kept (:mod:`portal.response_cache`)."""

    scope = "optimade"


class LoginThrottle(SlidingWindowCounter, SimpleRateThrottle):
    """Sign-in attempts (POSTs to a login view) per address, whoever is signed in."""

    scope = "login"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttle_exempt(view):
    """Mark a view that the page throttles leave alone: one that applies its own throttle (OPTIMADE) or serves a
    static asset."""
    view.throttle_exempt = True
    return view
