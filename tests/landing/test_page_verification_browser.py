"""The page's code step in headless Chromium against the real gunicorn with VERIFICATION=sms:
a real worker texts the code to the local SMS gateway, the visitor types it (a wrong one
first, in Persian digits), and the number ends verified in PostgreSQL. In English, the
resend's cooldown is said rather than waited out; the service down while the code is sent
is retried like a sign-up."""

from playwright.sync_api import Page, expect

from landing.shared.db import db
from tests.support.processes import running_gunicorn
from tests.support.services import ROOT, wait_for
from tests.support.sms import sms_settings

PHONE = "09123456789"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
RESULTS = ROOT / "results"


def web_env(settings, gateway, receiver, **extra) -> dict[str, str]:
    config = sms_settings(settings, gateway, receiver)
    return {
        "VERIFICATION": "sms",
        "SMS_BASE_URL": config.sms_base_url,
        "STATUS_RATE_LIMIT": "1000/minute",
        **extra,
    }


def shows(page: Page, wanted: str, timeout: float = 30) -> None:
    expect(page.locator("#result")).to_have_attribute("data-state", wanted, timeout=timeout * 1000)


def verified_count() -> int:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute("SELECT count(*) FROM verifications")
        return cursor.fetchone()[0]


def sign_up(page: Page, phone: str = PHONE) -> None:
    page.locator("#phone").fill(phone)
    page.keyboard.press("Enter")
    shows(page, "code")
    expect(page.locator("#code")).to_be_focused()


def test_the_code_step_in_persian_by_keyboard(
    tmp_path, page, console, settings, sms_gateway, receiver, sms_worker
):
    env = web_env(settings, sms_gateway, receiver)
    with running_gunicorn(tmp_path, env=env) as web:
        page.goto(web.url)
        expect(page.locator("#verify")).to_be_hidden()
        sign_up(page)
        assert "پیامک" in page.locator("#result").text_content()
        code = wait_for(lambda: sms_gateway.codes_to(PHONE), timeout=15)[-1]
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        page.keyboard.insert_text(wrong.translate(PERSIAN))
        page.keyboard.press("Enter")
        shows(page, "wrongCode")
        expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
        page.locator("#code").fill("")
        page.keyboard.insert_text(code.translate(PERSIAN))
        page.keyboard.press("Enter")
        shows(page, "verified")
        assert "تأیید شد" in page.locator("#result").text_content()
        expect(page.locator("#verify")).to_be_hidden()
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=RESULTS / "page-verified.png")
    assert wait_for(verified_count, timeout=15) == 1


def test_in_english_a_resend_within_its_cooldown_is_said(
    tmp_path, page, console, settings, sms_gateway, receiver, sms_worker
):
    env = web_env(settings, sms_gateway, receiver, VERIFICATION_RESEND_COOLDOWN="60")
    with running_gunicorn(tmp_path, env=env) as web:
        page.goto(f"{web.url}/?lang=en")
        sign_up(page)
        assert "SMS" in page.locator("#result").text_content()
        wait_for(lambda: sms_gateway.codes_to(PHONE), timeout=15)
        page.locator("#resend").click()
        shows(page, "resendWait")
        assert "wait" in page.locator("#result").text_content()
        assert len(sms_gateway.codes_to(PHONE)) == 1
        page.locator("#code").fill("12")
        page.keyboard.press("Enter")
        shows(page, "wrongCode")  # too short: said on the page, nothing sent


def test_without_verification_the_page_has_no_code_step(tmp_path, page, console, worker, clean):
    with running_gunicorn(tmp_path) as web:
        page.goto(web.url)
        page.locator("#phone").fill(PHONE)
        page.keyboard.press("Enter")
        shows(page, "accepted")  # the promise: no poll, no code step
        expect(page.locator("#verify")).to_be_hidden()
