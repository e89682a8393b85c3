"""A form posted after the sign-in (or its CSRF token) expired keeps what was typed.

Nothing is saved before the user signs in again; after that, one button posts the same
fields (with a fresh CSRF token) to where they were going. Works without JavaScript.
"""
from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _

from diagnostic.auth.forms import LoginForm

CARRY = "_carry-"  # prefix of the fields of a form posted after the sign-in expired


def carries_form() -> bool:
    """True for a form POST this site's own page sent (what the carry-over may keep).

    The browser says so in Sec-Fetch-Site; older browsers send Origin instead. A page of
    another site must not be able to plant fields that the user then saves unawares.
    """
    if request.method != "POST" or not request.form:
        return False
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") == request.host_url.rstrip("/")


def _carried() -> list[tuple[str, str]]:
    """The posted fields, without the stale CSRF token (uploaded files cannot be carried)."""
    return [(name, value) for name, value in request.form.items(multi=True) if name != "csrf_token"]


def carried_through_login() -> list[tuple[str, str]]:
    """The fields the sign-in page carried (its `_carry-` hidden inputs), without the prefix."""
    return [(name[len(CARRY):], value) for name, value in request.form.items(multi=True) if name.startswith(CARRY)]


def login_to_continue():
    """The sign-in page for a form posted after the sign-in expired, carrying what was posted."""
    flash(_("Su sesión expiró. Inicie sesión de nuevo: lo que escribió se conserva y se guardará después."), "error")
    return render_template("auth/login.html", form=LoginForm(formdata=None), carried=_carried(),
                           action=url_for("auth.login", next=request.full_path.rstrip("?"))), 401


def resend_expired_form():
    """A signed-in user's form whose CSRF token expired: the same fields, a fresh token, one button."""
    return render_template("auth/continue.html", carried=_carried(), target=request.full_path.rstrip("?"),
                           signed_in_again=False), 400
