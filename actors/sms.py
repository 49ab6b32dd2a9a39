"""Sending a code by SMS: one interface, an adapter per provider's documented HTTP API.

Kavenegar (https://api.kavenegar.com): `POST /v1/{API-KEY}/verify/lookup.json` with
receptor, token and template (a template made in its panel, whose %token is the code), or
`/v1/{API-KEY}/sms/send.json` with receptor, sender and message when a sender line is set;
it answers JSON whose `return.status` is 200 when the message was taken. Twilio
(https://api.twilio.com): `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, basic auth
as AccountSid with the auth token, form fields To (E.164), From and Body; 201 when queued.

Both speak to SMS_BASE_URL, so the local gateway (landing/ops/sms_gateway.py) stands in for
either. An answer that says try later (a network error, 429, 5xx) is SmsUnavailable, an
outage; one that refuses the message itself (4xx: a bad key, a number it will not text, no
credit) is SmsRefused, which no retry would change.
"""

import base64
import json
import urllib.error
import urllib.request
from http.client import HTTPException
from typing import Protocol
from urllib.parse import quote, urlencode

from landing.shared.failures import Permanent, Transient
from landing.shared.settings import Settings

TEXT = "کد تأیید شما: {code}\nYour verification code: {code}"


class SmsUnavailable(Transient):
    """The provider did not take the message, for now. Says why without the number."""


class SmsRefused(Permanent):
    """The provider refused the message; every retry would be refused alike."""


class SmsProvider(Protocol):
    def send(self, phone: str, code: str) -> None:
        """Hand the code for phone (0XXXXXXXXXX) to the provider; SmsUnavailable or SmsRefused
        when it did not take it."""


def _post(url: str, form: dict[str, str], timeout: float, headers: dict[str, str]) -> tuple:
    """(status, parsed JSON body or None) of a form POST; SmsUnavailable when none came."""
    request = urllib.request.Request(url, data=urlencode(form).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, HTTPException) as error:  # refused, reset, timed out, not HTTP
        raise SmsUnavailable(f"network error: {type(error).__name__}") from None
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def judge(status: int, provider: str) -> None:
    """Raise what an HTTP status other than success means for a send."""
    if status == 429 or status >= 500:
        raise SmsUnavailable(f"{provider} answered {status}")
    raise SmsRefused(f"{provider} answered {status}")


class Kavenegar:
    """Kavenegar's verify/lookup (a template), or sms/send with a sender line."""

    def __init__(self, base_url: str, api_key: str, template: str, sender: str, timeout: float):
        self.root = f"{base_url.rstrip('/')}/v1/{quote(api_key, safe='')}"
        self.template, self.sender, self.timeout = template, sender, timeout

    def send(self, phone: str, code: str) -> None:
        if self.sender:
            url = f"{self.root}/sms/send.json"
            form = {"receptor": phone, "sender": self.sender, "message": TEXT.format(code=code)}
        else:
            url = f"{self.root}/verify/lookup.json"
            form = {"receptor": phone, "token": code, "template": self.template}
        status, body = _post(url, form, self.timeout, {"Accept": "application/json"})
        inner = body.get("return", {}).get("status") if isinstance(body, dict) else None
        if status == 200 and inner == 200:
            return
        judge(inner if isinstance(inner, int) and status == 200 else status, "kavenegar")


def e164(phone: str) -> str:
    """+98 and the number without its leading 0: Twilio's To."""
    return "+98" + phone[1:]


class Twilio:
    """Twilio's Messages API."""

    def __init__(self, base_url: str, account: str, token: str, sender: str, timeout: float):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{quote(account)}/Messages.json"
        credentials = base64.b64encode(f"{account}:{token}".encode()).decode()
        self.headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json"}
        self.sender, self.timeout = sender, timeout

    def send(self, phone: str, code: str) -> None:
        form = {"To": e164(phone), "From": self.sender, "Body": TEXT.format(code=code)}
        status, _ = _post(self.url, form, self.timeout, self.headers)
        if status not in (200, 201):
            judge(status, "twilio")


def unusable(config: Settings) -> str | None:
    """Why no code could be sent with config's SMS_* settings, or None. Checked before each
    send, not at start: every worker declares send_code, but only the process consuming the
    sms queue is given the provider's key (compose: `webhooks`)."""
    if not config.sms_api_key:
        return "SMS_API_KEY is not set"
    if config.sms_provider == "twilio" and not (config.sms_account and config.sms_sender):
        return "SMS_PROVIDER=twilio needs SMS_ACCOUNT and SMS_SENDER"
    if config.app_env == "production" and not config.sms_base_url.startswith("https://"):
        return "APP_ENV=production needs an https:// SMS_BASE_URL"  # the code in clear text
    return None


def provider_for(config: Settings) -> SmsProvider:
    """The adapter SMS_PROVIDER names, pointed at SMS_BASE_URL."""
    if config.sms_provider == "twilio":
        return Twilio(
            config.sms_base_url,
            config.sms_account,
            config.sms_api_key,
            config.sms_sender,
            config.sms_timeout,
        )
    return Kavenegar(
        config.sms_base_url,
        config.sms_api_key,
        config.sms_template,
        config.sms_sender,
        config.sms_timeout,
    )
