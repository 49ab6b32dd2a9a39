"""Text written into an export, made safe to open in a spreadsheet.

A referrer or a user agent is whatever a visitor sent, and an operator opens the export in
Excel, LibreOffice Calc or Google Sheets. Quoting a CSV field does not help: all three read
a quoted "=..." as a formula all the same. What they do differ on is where a cell starts:
Excel takes the list separator of the machine's locale (`;` where the decimal mark is a
comma), so a comma-separated file may be cut at every `;`, quotes or not; Calc and Sheets
offer `,` `;` and tab; and a line break inside a field starts a new row in any reader that
lost track of the quotes. Some importers trim spaces first, so ` =1` can become `=1`.

The rule, then, for every text cell:

- Text-direction controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are
  removed: they make a cell display other than what it holds.
- The cell is read as pieces cut at each `,` `;` tab, CR and LF. A piece whose first
  character other than white space is `=` `+` `-` `@` (or one of their full-width forms,
  in case an East Asian setting reads them the same) gets an apostrophe right before that
  character: however the file is cut and trimmed, no cell starts with one.
- A cell that starts with a tab or a CR gets one in front too (OWASP lists both).

A leading apostrophe is how all three are told "this is text", and the value stays
readable. The price: a legitimate value with a trigger after a separator changes too (a
crawler's agent `(compatible; +http://...)` becomes `(compatible; '+http://...)`). Our own
values never change: a phone is 0 and digits, ids and times start with digits, addresses
with a digit, a hex digit or `::`. Separators a user picks by hand in an import dialog
(space, `|`) are not covered.
"""

import re

TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
_DIRECTION = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TEXT_DIRECTION = re.compile(f"[{_DIRECTION}]")
# A piece's start (the text's, or a separator's end), its white space, then a trigger.
_FORMULA = re.compile(rf"(^|[,;\t\r\n])([^\S\t\r\n]*)(?=[{re.escape(TRIGGERS)}])")
# Most cells (and most user agents) hold none of these: nothing to do.
_WORTH_A_LOOK = re.compile(f"[{re.escape(TRIGGERS)}\t\r{_DIRECTION}]")


def safe_cell(text: str) -> str:
    """text as it should be written into an export: no piece of it starts a formula."""
    if not _WORTH_A_LOOK.search(text):
        return text
    text = _FORMULA.sub(r"\1\2'", _TEXT_DIRECTION.sub("", text))
    return f"'{text}" if text[:1] in ("\t", "\r") else text
