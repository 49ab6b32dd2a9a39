"""README.md and docs/: every relative link reaches a file, and every #anchor a heading in it."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, - for spaces."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(page: Path) -> set[str]:
    return {anchor(text) for text in re.findall(r"^#+ (.*)$", page.read_text(), re.M)}


def test_every_link_between_pages_reaches_its_target():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            if not destination.is_file() or (fragment and fragment not in headings(destination)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_readme_stays_an_overview():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
