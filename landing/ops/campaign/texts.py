"""The campaign page's words in English and Persian, and Persian digits for numbers."""

from collections.abc import Callable

LANGUAGES = ("en", "fa")
_PERSIAN = str.maketrans("0123456789.%", "۰۱۲۳۴۵۶۷۸۹٫٪")

EN = {
    "title": "Campaign",
    "switch": "فارسی",
    "tasks": "Task dashboard",
    "live": "Updates every few seconds",
    "paused": "Not updating: the last refresh failed",
    "filter": "Referrer",
    "all": "All referrers",
    "show": "Show",
    "none": "(none)",
    "signups": "Sign-ups",
    "total": "In all",
    "last_hour": "Last hour",
    "today": "Today (UTC)",
    "verified": "Verified by SMS",
    "per_minute": "Per minute, last hour (UTC)",
    "per_hour": "Per hour, last 48 hours (UTC)",
    "per_day": "Per day, the whole campaign (UTC)",
    "referrers": "By referrer",
    "source": "Source",
    "campaign": "Campaign",
    "share": "Share",
    "attempts_24h": "Attempt log, last 24 hours",
    "attempts": "Attempts",
    "duplicates": "Duplicates",
    "invalid": "Invalid",
    "limited": "Limited requests (last 24 hours)",
    "pipeline": "Pipeline",
    "stored_5": "Stored in the last 5 minutes",
    "messages_5": "Sign-up messages in / handled, last 5 minutes",
    "backlog": "Waiting in the queue",
    "oldest": "oldest",
    "seconds": "s",
    "dead": "Dead letters waiting",
    "open_failed": "open the Failed tab",
    "workers": "Workers taking sign-ups",
    "unavailable": "unavailable",
    "export": "Export",
    "export_hint": "The sign-ups shown (same referrer), as CSV.",
    "from": "From (UTC)",
    "to": "Until (UTC)",
    "start": "Start export",
    "status": "Status",
    "rows": "rows",
    "download": "Download",
    "find": "Find a number",
    "phone": "Mobile number",
    "search": "Find",
    "not_found": "No registration holds this number.",
    "not_a_phone": "That is not a mobile number.",
    "referrer": "Referrer",
    "signed_up": "Signed up",
    "request_id": "Request id",
    "reveal": "Reveal the number",
    "erase": "Erase this number",
    "confirm": "I understand: the number leaves every store, for good.",
    "erased": "Erased: {registrations} registration(s), {attempts} attempt(s),"
    " {exports} export(s).",
    "erase_off": "Erasing here needs MIGRATE_DATABASE_URL in the dashboard's settings;"
    " without it, run `flask --app landing erase-phone` where it is set.",
}

FA = {
    "title": "کمپین",
    "switch": "English",
    "tasks": "داشبورد کارها",
    "live": "هر چند ثانیه به‌روز می‌شود",
    "paused": "به‌روز نمی‌شود: آخرین تلاش ناموفق بود",
    "filter": "ارجاع‌دهنده",
    "all": "همه",
    "show": "نمایش",
    "none": "(هیچ)",
    "signups": "ثبت‌نام‌ها",
    "total": "همه",
    "last_hour": "ساعت گذشته",
    "today": "امروز (UTC)",
    "verified": "تأییدشده با پیامک",
    "per_minute": "دقیقه‌به‌دقیقه، ساعت گذشته (UTC)",
    "per_hour": "ساعت‌به‌ساعت، ۴۸ ساعت گذشته (UTC)",
    "per_day": "روزبه‌روز، کل کمپین (UTC)",
    "referrers": "بر پایه‌ی ارجاع‌دهنده",
    "source": "منبع",
    "campaign": "کمپین",
    "share": "سهم",
    "attempts_24h": "گزارش تلاش‌ها، ۲۴ ساعت گذشته",
    "attempts": "تلاش‌ها",
    "duplicates": "تکراری",
    "invalid": "نامعتبر",
    "limited": "درخواست‌های محدودشده (۲۴ ساعت گذشته)",
    "pipeline": "مسیر پردازش",
    "stored_5": "ذخیره‌شده در ۵ دقیقه‌ی گذشته",
    "messages_5": "پیام‌های ثبت‌نام ورودی / پردازش‌شده، ۵ دقیقه‌ی گذشته",
    "backlog": "در صف",
    "oldest": "قدیمی‌ترین",
    "seconds": "ثانیه",
    "dead": "پیام‌های ناموفق در انتظار",
    "open_failed": "باز کردن زبانه‌ی Failed",
    "workers": "کارگرهای متصل به صف ثبت‌نام",
    "unavailable": "در دسترس نیست",
    "export": "خروجی",
    "export_hint": "ثبت‌نام‌های نمایش‌داده‌شده (همان ارجاع‌دهنده)، به صورت CSV.",
    "from": "از (UTC)",
    "to": "تا (UTC)",
    "start": "شروع خروجی",
    "status": "وضعیت",
    "rows": "ردیف",
    "download": "دریافت فایل",
    "find": "یافتن یک شماره",
    "phone": "شماره‌ی موبایل",
    "search": "یافتن",
    "not_found": "هیچ ثبت‌نامی با این شماره نیست.",
    "not_a_phone": "این شماره‌ی موبایل نیست.",
    "referrer": "ارجاع‌دهنده",
    "signed_up": "زمان ثبت‌نام",
    "request_id": "شناسه‌ی درخواست",
    "reveal": "نمایش شماره",
    "erase": "پاک کردن این شماره",
    "confirm": "می‌دانم: شماره برای همیشه از همه‌جا پاک می‌شود.",
    "erased": "پاک شد: {registrations} ثبت‌نام، {attempts} تلاش، {exports} خروجی.",
    "erase_off": "برای پاک کردن در اینجا، MIGRATE_DATABASE_URL باید در تنظیمات داشبورد باشد؛"
    " وگرنه `flask --app landing erase-phone` را اجرا کنید.",
}

TEXTS = {"en": EN, "fa": FA}


def persian_digits(value: int | str) -> str:
    """value with Persian digits (and Persian decimal and percent signs)."""
    return str(value).translate(_PERSIAN)


def language(raw: str | None) -> str:
    return raw if raw in LANGUAGES else "en"


def digits_for(lang: str) -> Callable[[int | str], str]:
    return persian_digits if lang == "fa" else str
