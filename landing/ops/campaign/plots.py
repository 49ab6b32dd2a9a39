"""Bar plots as inline SVG, drawn here: no script, no font or file from anywhere else.

A plot is a list of (label, count) bars, oldest first. Each bar carries a <title> (its
label and count, which a browser shows on hover and a screen reader reads) and data-count,
so a test can read the plotted numbers back. Counts are printed with the page's digits.
"""

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 600, 180
TOP, BOTTOM, SIDE = 16, 22, 18  # room for the largest count above, labels below and aside
Digits = Callable[[int | str], str]


def ascii_digits(value: int | str) -> str:
    return str(value)


def bars(
    points: Sequence[tuple[str, int]],
    title: str,
    digits: Digits = ascii_digits,
    label_every: int = 1,
) -> Markup:
    """An SVG of one bar per point, scaled to the largest; every label_every-th labelled."""
    top = max((count for _, count in points), default=0)
    slot = (WIDTH - 2 * SIDE) / max(len(points), 1)
    plot_height = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(title)}" preserveAspectRatio="none">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
    ]
    for index, (label, count) in enumerate(points):
        height = plot_height * count / top if top else 0
        x, y = SIDE + index * slot, HEIGHT - BOTTOM - height
        parts.append(
            f'<rect class="bar" x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}"'
            f' height="{height:.1f}" data-label="{escape(label)}" data-count="{count}">'
            f"<title>{escape(label)}: {escape(digits(count))}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 6}" class="label">'
                f"{escape(digits(label))}</text>"
            )
    if top:
        parts.append(f'<text x="{WIDTH - 2}" y="12" class="top">{escape(digits(top))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
