"""The local SMS gateway (landing/ops/sms_gateway.py) in a thread: what a provider is to
our workers, and where a test reads the codes they sent."""

import json
import re
import threading
import urllib.request

from landing.ops.sms_gateway import Gateway
from tests.support.config import WEBHOOK_SECRET

CODE = re.compile(r"\b([0-9]{6})\b")
NUMBER_BUDGET = 3  # codes per number per day in the tests' VERIFICATION=sms settings


def sms_settings(settings, gateway: "RunningGateway", receiver):
    """settings with VERIFICATION=sms, codes sent to gateway, webhooks to receiver."""
    return settings.replace(
        verification="sms",
        sms_base_url=gateway.url,
        sms_number_budget=NUMBER_BUDGET,
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
    )


class RunningGateway:
    """A gateway on a free port of 127.0.0.1, served by a daemon thread until stop()."""

    def __init__(self, twilio_token: str = "") -> None:
        self.server = Gateway(("127.0.0.1", 0), twilio_token)
        self.url = self.server.url
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def messages(self) -> list[dict]:
        """What it was asked to send, oldest first, read over HTTP as a developer's page is."""
        with urllib.request.urlopen(self.url + "/messages.json", timeout=5) as response:
            return json.loads(response.read())

    def codes_to(self, phone: str) -> list[str]:
        """The codes sent to phone (as the provider got it: 09... or +989...), in order."""
        wanted = {phone, "+98" + phone[1:]}
        return [CODE.findall(m["text"])[0] for m in self.messages() if m["to"] in wanted]

    def fail(self, status: int, times: int) -> None:
        """Answer the next `times` sends with status, as a provider that is down would."""
        self._post("/control/fail", {"status": status, "times": times})

    def reset(self) -> None:
        self._post("/control/reset", {})
