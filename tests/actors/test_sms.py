"""The SMS adapters against the local gateway, a real HTTP server speaking Kavenegar's and
Twilio's API shapes: what each sends, and what a provider's refusal or outage becomes."""

import pytest

from actors.sms import (
    Kavenegar,
    SmsRefused,
    SmsUnavailable,
    Twilio,
    e164,
    provider_for,
    unusable,
)
from harness.local import free_port
from landing.shared.failures import Kind, classify

pytestmark = pytest.mark.fast  # a gateway in a thread, no process started

PHONE = "09123456789"


@pytest.fixture
def gateway(sms_gateway):
    sms_gateway.reset()
    return sms_gateway


def test_kavenegar_verify_lookup_sends_the_code_as_the_templates_token(gateway):
    Kavenegar(gateway.url, "key/with?odd&chars", "signup", "", 5).send(PHONE, "012345")
    [sent] = gateway.messages()
    assert sent["method"] == "verify/lookup"
    assert (sent["to"], sent["token"], sent["template"]) == (PHONE, "012345", "signup")


def test_kavenegar_sms_send_with_a_sender_line(gateway):
    Kavenegar(gateway.url, "key", "signup", "10004346", 5).send(PHONE, "654321")
    [sent] = gateway.messages()
    assert sent["method"] == "sms/send" and sent["sender"] == "10004346"
    assert "654321" in sent["text"] and sent["to"] == PHONE
    assert gateway.codes_to(PHONE) == ["654321"]


def test_twilio_sends_e164_with_basic_auth(gateway):
    Twilio(gateway.url, "AC123", "test-twilio-token", "+15005550006", 5).send(PHONE, "111222")
    [sent] = gateway.messages()
    assert (sent["provider"], sent["to"], sent["from"]) == (
        "twilio",
        "+989123456789",
        "+15005550006",
    )
    assert gateway.codes_to(PHONE) == ["111222"]
    assert e164("09351234567") == "+989351234567"


def test_a_wrong_twilio_token_is_refused_for_good(gateway):
    with pytest.raises(SmsRefused):
        Twilio(gateway.url, "AC123", "wrong", "+15005550006", 5).send(PHONE, "111222")
    assert gateway.messages() == []


@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("provider", ["kavenegar", "twilio"])
def test_a_provider_that_is_down_is_an_outage(gateway, settings, provider, status):
    config = settings.replace(
        sms_provider=provider,
        sms_base_url=gateway.url,
        sms_api_key="test-twilio-token",
        sms_account="AC123",
        sms_sender="+15005550006" if provider == "twilio" else "",
    )
    gateway.fail(status, 1)
    with pytest.raises(SmsUnavailable) as raised:
        provider_for(config).send(PHONE, "123123")
    assert classify(raised.value) is Kind.TRANSIENT
    assert PHONE not in str(raised.value)
    provider_for(config).send(PHONE, "123123")  # back: the next one goes
    assert gateway.codes_to(PHONE) == ["123123"]


def test_a_refusal_is_permanent_and_nobody_listening_is_an_outage(gateway):
    with pytest.raises(SmsRefused) as refused:
        Kavenegar(gateway.url, "key", "", "", 5).send(PHONE, "123123")  # no template: 400
    assert classify(refused.value) is Kind.PERMANENT
    with pytest.raises(SmsUnavailable):
        Kavenegar(f"http://127.0.0.1:{free_port()}", "key", "t", "", 2).send(PHONE, "1")


def test_the_gateway_page_shows_what_was_sent(gateway):
    import urllib.request

    Kavenegar(gateway.url, "key", "signup", "", 5).send(PHONE, "777888")
    with urllib.request.urlopen(gateway.url + "/", timeout=5) as page:
        text = page.read().decode()
    assert "777888" in text and PHONE in text


def test_settings_no_code_could_be_sent_with_are_named(settings):
    sms = settings.replace(verification="sms")
    assert unusable(sms) is None  # development: the local gateway, its dev key
    assert unusable(sms.replace(sms_api_key="")) == "SMS_API_KEY is not set"
    assert "SMS_ACCOUNT" in unusable(sms.replace(sms_provider="twilio"))
    production = sms.replace(app_env="production")
    assert "https://" in unusable(production)
    assert unusable(production.replace(sms_base_url="https://api.kavenegar.com")) is None
