"""HTTP basic auth for the dashboard, with failed logins logged and limited per address."""

import hmac
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import Authorization

from landing.ops.dashboard.errors import error_response

REALM = 'Basic realm="landing task dashboard", charset="UTF-8"'

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


class FailedLogins:
    """Failed logins per client address: `limit` within `window` s lock it out for `window` s.

    In-process rather than in Redis: the dashboard is one gunicorn process, so this one table
    sees every attempt, and the door works the same whether Redis answers or not. Bounded:
    at most `capacity` addresses (the least recently failing forgotten first), and per address
    at most `limit` timestamps.
    """

    def __init__(
        self,
        limit: int = 5,
        window: float = 60.0,
        capacity: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.capacity, self.clock = limit, window, capacity, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: dict[str, float] = {}  # address: when its lock-out ends
        self._guard = threading.Lock()  # gunicorn's gevent worker patches it into a greenlet lock

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until a locked-out address may try again; None if it may now."""
        with self._guard:
            until = self._locked.get(address)
            if until is None:
                return None
            left = until - self.clock()
            if left <= 0:
                del self._locked[address]
                return None
            return max(1, math.ceil(left))

    def record(self, address: str) -> int:
        """Count one failure; how many this address had within the window (limit: locked out)."""
        now = self.clock()
        with self._guard:
            failures = self._failures.pop(address, None) or deque(maxlen=self.limit)
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            failures.append(now)
            count = len(failures)
            if count >= self.limit:
                self._locked.pop(address, None)  # to the end: the newest is trimmed last
                self._locked[address] = now + self.window  # its count starts over afterwards
            else:
                self._failures[address] = failures
            self._trim()
            return count

    def _trim(self) -> None:
        while len(self._failures) > self.capacity:
            self._failures.popitem(last=False)
        for address in list(self._locked)[: max(0, len(self._locked) - self.capacity)]:
            del self._locked[address]


class BasicAuth:
    """Every request needs the configured user and password (HTTP basic auth) or gets a 401.

    An address with too many recent failures gets a 429 instead, even with the right
    password. The address is REMOTE_ADDR: nothing proxies the dashboard, and a header such
    as X-Forwarded-For is whatever the client says, so it would let anyone dodge the limit.
    """

    def __init__(
        self, app: WSGIApp, user: str, password: str, failures: FailedLogins | None = None
    ) -> None:
        self.app = app
        self.user = user.encode()
        self.password = password.encode()
        self.failures = FailedLogins() if failures is None else failures

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        address = environ.get("REMOTE_ADDR") or "unknown"
        wait = self.failures.retry_after(address)
        if wait is not None:
            message = f"Too many failed logins from this address; try again in {wait} s."
            response = error_response(429, "rate_limited", message, {"Retry-After": str(wait)})
            return response(environ, start_response)
        header = environ.get("HTTP_AUTHORIZATION")
        if self.allows(Authorization.from_header(header)):
            return self.app(environ, start_response)
        if header is not None:  # a browser's first request carries none: not an attempt yet
            self._failed(address)
        message = "The task dashboard needs a user name and password."
        response = error_response(401, "unauthorized", message, {"WWW-Authenticate": REALM})
        return response(environ, start_response)

    def allows(self, auth: Authorization | None) -> bool:
        """The configured user and password, compared in constant time."""
        if auth is None or auth.type != "basic":
            return False
        # Compare both, always, in constant time: no timing hint about which one was wrong.
        user_ok = hmac.compare_digest((auth.username or "").encode(), self.user)
        password_ok = hmac.compare_digest((auth.password or "").encode(), self.password)
        return user_ok and password_ok

    def _failed(self, address: str) -> None:
        """Log the failure: the address only, never the password or the user name tried."""
        count = self.failures.record(address)
        window = round(self.failures.window)
        log.warning("task dashboard: failed login from %s (%d within %d s)", address, count, window)
        if count >= self.failures.limit:
            log.warning("task dashboard: %s locked out for %d s", address, window)
