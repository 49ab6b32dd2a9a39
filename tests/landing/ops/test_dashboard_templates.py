"""What dramatiq-dashboard's templates print of a CSRF token, and which handlers it routes to.

No service needed: the app is built around a stand-in interface and never asked for data.
"""

import re
from pathlib import Path
from types import SimpleNamespace

import dramatiq_dashboard
from markupsafe import Markup

from landing.ops.dashboard import PREFIX, RabbitmqDashboardApp
from landing.ops.dashboard import csrf as dashboard_csrf

TEMPLATES = Path(dramatiq_dashboard.__file__).parent / "templates"
HOSTILE = '"><script>alert(1)</script>'


def make_app() -> RabbitmqDashboardApp:
    return RabbitmqDashboardApp(SimpleNamespace(broker=None), PREFIX)


def test_every_template_prints_a_token_only_through_our_escaping_field():
    printed = []
    for template in TEMPLATES.glob("*.html"):
        printed += re.findall(r"{{[^}]*csrf[^}]*}}", template.read_text())
    assert printed == ["{{ csrf_token()|safe }}"]  # _action.html, in every POST form
    assert make_app().templates.globals["csrf_token"] is dashboard_csrf.hidden_field


def test_the_field_escapes_whatever_token_it_is_given():
    reset = dashboard_csrf._TOKEN.set(HOSTILE)
    try:
        rendered = make_app().templates.from_string("{{ csrf_token()|safe }}").render()
    finally:
        dashboard_csrf._TOKEN.reset(reset)
    assert "<script>" not in rendered
    assert rendered == Markup('<input type="hidden" name="csrf_token" value="{}">').format(HOSTILE)


def test_no_route_reaches_a_handler_under_the_packages_own_csrf_check():
    for _, route in make_app()._dispatch_table:
        assert "csrf_protect" not in " ".join(_wrapped_names(route.__func__)), route


def _wrapped_names(function) -> list[str]:
    """The qualified names of a function and of every function its decorators closed over."""
    names, pending = [], [function]
    while pending:
        current = pending.pop()
        names.append(current.__qualname__)
        for cell in current.__closure__ or ():
            if callable(cell.cell_contents) and hasattr(cell.cell_contents, "__closure__"):
                pending.append(cell.cell_contents)
    return names
