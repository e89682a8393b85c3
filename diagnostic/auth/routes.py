"""Sign-in and sign-out views."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from diagnostic.auth import bp
from diagnostic.auth.carry import carried_through_login
from diagnostic.auth.forms import LoginForm
from diagnostic.extensions import db
from diagnostic.models import Role
from diagnostic.services import users

HOMES = {Role.EVALUATOR: "evaluate.index", Role.ADMIN: "admin.index", Role.ANALYST: "analyst.index"}


def home_for(user) -> str:
    """Where a user lands after signing in."""
    return url_for(HOMES.get(user.role, "main.index"))


def _local(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in form (also finishes a form that was posted after the sign-in expired)."""
    carried = carried_through_login()
    if current_user.is_authenticated and not carried:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.permanent = True  # ends after SESSION_LIFETIME_MINUTES without a request
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
    """Sign out: this session, every copy of its cookie and every remember cookie of the account end."""
    users.end_sessions(current_user)
    db.session.commit()
    logout_user()
    return redirect(url_for("main.index"))
