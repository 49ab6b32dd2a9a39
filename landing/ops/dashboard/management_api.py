"""The few read-only calls the task dashboard makes to RabbitMQ's management HTTP API.

Standard library only (urllib): three GETs do not justify a new dependency. The API's
statistics are sampled every 5 s (RabbitMQ's collect_statistics_interval), so its counts
may lag the queues by that much.
"""

import base64
import json
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from urllib.request import ProxyHandler, Request, build_opener


class ManagementAPI:
    """GETs against one vhost; credentials come from the URL's user:password."""

    def __init__(self, url: str, vhost: str, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]  # the credentials go in a header instead
        self.base = urlunsplit(parts._replace(netloc=host)).rstrip("/")
        credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
        self.headers = {"Authorization": f"Basic {base64.b64encode(credentials).decode()}"}
        self.vhost = quote(vhost, safe="")  # "/" is "%2F" in the API's paths
        self.timeout = timeout
        # Ignore http_proxy and friends: the management API is always reached directly.
        self.opener = build_opener(ProxyHandler({}))

    def get(self, path: str) -> Any:
        """The decoded JSON at /api/<path>; any failure raises OSError (URLError, HTTPError)."""
        request = Request(f"{self.base}/api/{path}", headers=self.headers)
        with self.opener.open(request, timeout=self.timeout) as response:
            return json.load(response)

    def queue_totals(self) -> dict[str, int]:
        """Messages per queue of the vhost: ready plus unacknowledged (held by a worker)."""
        rows = self.get(f"queues/{self.vhost}?columns=name,messages")
        return {row["name"]: row.get("messages") or 0 for row in rows}

    def queue(self, name: str, window: int) -> dict[str, Any]:
        """One queue's counts, with its publish and ack totals sampled over the last window
        seconds (message_stats.*_details.samples, newest first)."""
        rates = f"msg_rates_age={window}&msg_rates_incr={window}"
        return self.get(f"queues/{self.vhost}/{quote(name, safe='')}?{rates}")

    def consumers(self) -> list[dict[str, Any]]:
        """Every consumer on the vhost, with its queue and its channel's details."""
        return self.get(f"consumers/{self.vhost}")

    def unacked_per_channel(self) -> dict[str, int]:
        """Messages each channel holds unacknowledged, by channel name."""
        rows = self.get(f"vhosts/{self.vhost}/channels?columns=name,messages_unacknowledged")
        return {row["name"]: row.get("messages_unacknowledged") or 0 for row in rows}
