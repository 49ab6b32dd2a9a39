"""`python -m landing.ops.settings_doc [--check]`: docs/settings.md and .env.example's
settings, written from Settings (landing/shared/settings.py), where each setting's default
and meaning are written once.

Without --check it rewrites both files; with it, it changes nothing and exits 1 when either
differs from what Settings says (tests/landing/shared/test_settings.py asks the same).
"""

import re
import sys
import textwrap
from dataclasses import MISSING, Field, fields
from pathlib import Path

from landing.shared.settings import ALL_SECRETS, SECRETS, Settings

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = ROOT / "docs" / "settings.md"
ENV_EXAMPLE = ROOT / ".env.example"
# .env.example's lines between these two are generated; the rest (its header, the Procfile's
# and docker compose's own variables, which are no Settings) is written by hand.
BEGIN = "# --- settings: written by `python -m landing.ops.settings_doc` from Settings ---"
END = "# --- end of the settings ---"
NBSP = "\u00a0"

INTRODUCTION = """\
# Settings

Written by `python -m landing.ops.settings_doc` from `Settings` in
`landing/shared/settings.py`, where each setting is defined with its default and meaning: edit
them there, then run the command (a unit test fails while this page or `.env.example` differs).

Every process reads them once, from environment variables named like this table's, where it
starts. `APP_ENV` is `production` unless it is set to `development`. Development defaults suit
localhost (`make dev`). In production no secret has a default: a process refuses to start
without the ones it uses (the production column), and one it was not given is empty, never a
default, so no process holds a credential it never needs. Every other setting has the same
default in both. Numbers are written as Python reads them (`1800`, `2.0`).
"""


def name_of(entry: Field) -> str:
    return entry.name.upper()


def default_of(entry: Field) -> str:
    return "" if entry.default is MISSING else str(entry.default)


def users_of(name: str) -> str:
    """The processes production refuses to start without this secret; for one only a
    feature needs (VERIFICATION's), whoever turns that feature on."""
    users = ", ".join(process for process, names in SECRETS.items() if name in names)
    return users or "web and worker with `VERIFICATION=sms`"


def production_of(name: str) -> str:
    if name not in ALL_SECRETS:
        return "the same"
    return f"required by {users_of(name)}; empty in any other process"


def markdown() -> str:
    rows = ["| variable | default (development) | in production | meaning |"]
    rows.append("| --- | --- | --- | --- |")
    for entry in fields(Settings):
        name, default = name_of(entry), default_of(entry)
        shown = f"`{default}`" if default else "(empty)"
        meaning = entry.metadata["doc"].replace("|", "\\|")
        rows.append(f"| `{name}` | {shown} | {production_of(name)} | {meaning} |")
    return INTRODUCTION + "\n" + "\n".join(rows) + "\n"


def env_block() -> str:
    """Every setting once: its meaning as a comment, then NAME=value as `make dev` wants it."""
    lines = [BEGIN]
    for entry in fields(Settings):
        name, default = name_of(entry), default_of(entry)
        note = entry.metadata["doc"]
        if name in ALL_SECRETS:
            note += f". Required in production by {users_of(name)}"
            if entry.metadata.get("example") == "":
                note += f"; empty in development means `{default}`"
        lines.append("")
        lines += _comment(note)
        lines.append(f"{name}={entry.metadata.get('example', default)}")
    return "\n".join([*lines, "", END])


def _comment(text: str) -> list[str]:
    """text as comment lines of at most 92 characters, never broken inside `code`."""
    kept = re.sub(r"`[^`]*`", lambda code: code.group().replace(" ", NBSP), text)
    lines = textwrap.wrap(kept, 92, initial_indent="# ", subsequent_indent="# ")
    return [line.replace(NBSP, " ") for line in lines]


def env_example(current: str) -> str:
    """current with its generated block replaced (appended when it has none)."""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + env_block() + tail
    return current.rstrip("\n") + "\n\n" + env_block() + "\n"


def main(argv: list[str]) -> int:
    wanted = {MARKDOWN: markdown(), ENV_EXAMPLE: env_example(ENV_EXAMPLE.read_text())}
    stale = [path for path, text in wanted.items() if _read(path) != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} differs from Settings: run python -m {__spec__.name}")
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
