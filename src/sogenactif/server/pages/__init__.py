"""The server's own web pages (the 3-D Secure ACS, the external provider): HTTP and HTML
only; the decisions they need live in domain/ and operations/, the SQL in store/."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

from sogenactif.client.forms import auto_submit_page

_templates = Environment(loader=PackageLoader("sogenactif.server.pages", "templates"),
                         autoescape=select_autoescape(default=True, default_for_string=True))

#: Pages that carry one-time data must not be cached or leak it in a Referer header.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def post_back(action: str, fields: list[tuple[str, str]], *, title: str,
              heading: str = "Processing your Transaction") -> HTMLResponse:
    """Send the shopper's browser on with a POST (the guide's auto-submit form)."""
    return HTMLResponse(auto_submit_page(action, fields, title=title, heading=heading),
                        headers=PAGE_HEADERS)


def error_page(title: str, message: str, status_code: int = 400) -> HTMLResponse:
    return render("error.html", status_code, title=title, message=message)


def form_text(form: Any, name: str) -> str | None:
    """A text field of a posted form (None when missing or an uploaded file)."""
    value = form.get(name)
    return value if isinstance(value, str) else None
