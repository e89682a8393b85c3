"""Staff sign-in and sign-out (admins, analysts, evaluators)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from diagnostic.models import Role
from diagnostic.services import users

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Recordarme en este equipo"))


def home_for(user) -> str:
    """Where a user lands after signing in."""
    if user.role == Role.EVALUATOR:
        return url_for("evaluate.index")
    if user.role == Role.ADMIN:
        return url_for("admin.index")
    if user.role == Role.ANALYST:
        return url_for("analyst.index")
    return url_for("main.index")


CARRY = "_carry-"  # prefix of the fields of a form posted after the sign-in expired


def _local(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc


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


def login_to_continue():
    """The sign-in page for a form posted after the sign-in expired, carrying what was posted.

    Nothing is saved before the user signs in again; after that, one button posts the same
    fields (with a fresh CSRF token) to where they were going. Works without JavaScript.
    """
    carried = _carried()
    flash(_("Su sesión expiró. Inicie sesión de nuevo: lo que escribió se conserva y se guardará después."), "error")
    return render_template("auth/login.html", form=LoginForm(formdata=None), carried=carried,
                           action=url_for("auth.login", next=request.full_path.rstrip("?"))), 401


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in form."""
    carried = [(name[len(CARRY):], value) for name, value in request.form.items(multi=True) if name.startswith(CARRY)]
    if current_user.is_authenticated and not carried:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            target = request.args.get("next", "")
            if not _local(target):
                target = home_for(user)
            if carried:
                return render_template("auth/continue.html", carried=carried, target=target, signed_in_again=True)
            return redirect(target)
        flash(_("Correo o contraseña incorrectos."), "error")
    status = 422 if form.errors or request.method == "POST" else 200
    return render_template("auth/login.html", form=form, carried=carried), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("main.index"))


def resend_expired_form():
    """A signed-in user's form whose CSRF token expired: the same fields, a fresh token, one button."""
    return render_template("auth/continue.html", carried=_carried(), target=request.full_path.rstrip("?"),
                           signed_in_again=False), 400
