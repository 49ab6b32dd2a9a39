"""Headless Chromium for the dashboard's browser tests, driven over the DevTools protocol
on a pipe: no WebDriver, no extra package."""

import base64
import contextlib
import fcntl
import json
import os
import select
import subprocess
from pathlib import Path

import pytest

# A real browser that clicks: headless Chromium on the DevTools protocol, over a pipe.
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,960",
)


def _moved_above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Browser:
    """Headless Chromium driven through --remote-debugging-pipe (fds 3 and 4): no driver."""

    def __init__(self, profile: Path) -> None:
        if not CHROMIUM.exists():
            pytest.fail("Chromium is missing: apt-get install chromium (Debian's package)")
        commands, self._to = os.pipe()
        self._from, answers = os.pipe()
        # bash moves Chromium's ends to fds 3 and 4 (from 10 up, ours cannot be in the way).
        commands, answers = (_moved_above_nine(fd) for fd in (commands, answers))
        line = f'exec "$0" "$@" 3<&{commands} 4>&{answers}'
        flags = [*FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", line, str(CHROMIUM), *flags],
            pass_fds=(commands, answers),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands)
        os.close(answers)
        self._buffer, self._events, self._last_id = b"", [], 0
        pages = self.call("Target.getTargets")["targetInfos"]
        target = next(page["targetId"] for page in pages if page["type"] == "page")
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.call("Page.enable", self.session)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command and wait for its answer; events meanwhile are kept for later."""
        self._last_id += 1
        command = {"id": self._last_id, "method": method, "params": params}
        os.write(
            self._to,
            json.dumps(command | ({"sessionId": session} if session else {})).encode() + b"\0",
        )
        while True:
            message = self._receive()
            if message.get("id") == self._last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._events.append(message)

    def _receive(self, timeout: float = 30) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from], [], [], timeout)
            chunk = os.read(self._from, 1 << 16) if ready else b""
            if not chunk:
                raise AssertionError("Chromium did not answer")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def wait_for(self, event: str) -> dict:
        """The first event of this name since the last action."""
        while True:
            message = self._events.pop(0) if self._events else self._receive()
            if message.get("method") == event:
                return message["params"]

    def open(self, url: str, referrer: str | None = None) -> None:
        """Navigate the page (as if from a link on referrer) and wait until it has loaded."""
        self._events.clear()
        self.call(
            "Page.navigate", self.session, url=url, **({"referrer": referrer} if referrer else {})
        )
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page."""
        answer = self.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        return answer["result"].get("value")

    def click(self, selector: str) -> None:
        """Click what the CSS selector finds, and wait for the page it leads to."""
        self._events.clear()
        found = self.evaluate(
            f"(e => e ? (e.click(), true) : false)(document.querySelector({json.dumps(selector)}))"
        )
        assert found, f"nothing on the page matches {selector}"
        self.wait_for("Page.loadEventFired")

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.call("Browser.close")
        os.close(self._to)
        os.close(self._from)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    # --- Keyboard, console and screenshots (the landing page's tests) ----------------

    def type_text(self, text: str) -> None:
        """Type into whatever has the focus, as an input method would (any script)."""
        self.call("Input.insertText", self.session, text=text)

    def press(self, key: str) -> None:
        """Press and release one key: "Tab", "Enter" (which submits a form), "Space"."""
        codes = {"Tab": (9, "\t"), "Enter": (13, "\r"), "Space": (32, " ")}
        code, text = codes[key]
        down = {"key": key, "code": key, "windowsVirtualKeyCode": code, "text": text}
        self.call("Input.dispatchKeyEvent", self.session, type="keyDown", **down)
        self.call("Input.dispatchKeyEvent", self.session, type="keyUp", key=key, code=key)

    def record_console(self) -> None:
        """From now on keep the browser's own messages (CORS and CSP refusals among them)."""
        self.call("Log.enable", self.session)

    def console(self) -> list[str]:
        """The texts of the browser's messages received so far (kept, not consumed)."""
        return [
            event["params"]["entry"]["text"]
            for event in self._events
            if event.get("method") == "Log.entryAdded"
        ]

    def screenshot(self, path: Path, width: int = 900, height: int = 640) -> Path:
        """A PNG of the page at this size."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            self.session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        data = self.call("Page.captureScreenshot", self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path
