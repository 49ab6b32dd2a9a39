"""gunicorn's access log as JSON lines, without the client's address, query string, body or
any phone number typed into a path."""

import json
import re
import time
from urllib.parse import unquote

from gunicorn.glogging import Logger

from landing.shared.phones import DIGITS
from landing.shared.privacy import mask_phone, mask_phones_in


class JsonAccessLogger(Logger):
    """Access log lines as JSON objects; no client address, query string or body (privacy).

    What the client chose (the path, the method, the request id it sent straight to
    gunicorn) has any phone number in it masked: a number typed into a URL
    (/api/register/09123456789) is logged as 0912***6789.
    """

    def access(self, resp, req, environ, request_time) -> None:
        # gunicorn counts its logconfig_dict (ours, in gunicorn.conf.py) as asking for access
        # lines; only accesslog (there too, from WEB_ACCESS_LOG) does here.
        if not (self.access_log_enabled and self.cfg.accesslog):
            return
        # gunicorn's own error answers carry a status line but no status_code.
        status = getattr(resp, "status_code", None) or int(str(resp.status).split()[0])
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "logger": "gunicorn.access",
            "method": req.method,
            "path": logged_path(req.path),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": environ.get("HTTP_X_REQUEST_ID"),
        }
        self.access_log.info(json.dumps(mask_phones_in(record)))


# A status lookup's path holds a request_id, whose all-digit groups look like a number.
STATUS_PATH = re.compile(r"/api/register/[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# Digits with what a visitor types between them: spaces, dashes, dots, parentheses.
DIGIT_RUN = re.compile(r"\+?\d[\d \t().-]*\d")
MIN_PHONE_DIGITS = 7


def logged_path(path: str) -> str:
    """The path as the access log shows it: decoded, any phone-like digits masked, however
    they were typed (percent-encoded, Persian or Arabic-Indic digits, separators)."""
    if STATUS_PATH.fullmatch(path):
        return path
    return DIGIT_RUN.sub(_masked, unquote(path).translate(DIGITS))


def _masked(run: re.Match) -> str:
    digits = re.sub(r"\D", "", run.group())
    return mask_phone(digits) if len(digits) >= MIN_PHONE_DIGITS else run.group()
