"""The page controller of the questionnaire shared by respondents (`/r/<token>`) and evaluators.

A `Flow` knows the response, who acts, and how to build its own URLs; its methods are
the bodies of the landing, resume, page, autosave, review, submit and receipt views
(registered once for every blueprint by `diagnostic.questionnaire.views`).

Respondents are identified by their secret link alone: nothing about them lives in a
cookie, so there is no session to expire and no cross-site request can act for them
without the link (`csrf=False`). Evaluators are signed in with a session cookie, so their
POSTs carry a CSRF token, checked in the view itself so that an expired session re-shows
what was typed (with a fresh token) instead of losing it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

import surveys
from diagnostic.models import Response, ResponseStatus
from diagnostic.questionnaire.forms import (
    form_values,
    normalise,
    posted_base,
    posted_instances,
    posted_version,
    rendered_fields,
)
from diagnostic.questionnaire.pages import NON_INPUT, PageBuilder, dom_id, progress, shown_pages
from diagnostic.services import Refusal, ServiceError, attachments, evidence, responses
from diagnostic.services.audit import Actor
from surveys.paths import get_path

log = logging.getLogger(__name__)


def csrf_ok() -> bool:
    """True when the request carries a valid CSRF token (form field or X-CSRFToken header)."""
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken") or ""
    try:
        validate_csrf(token)
    except (ValidationError, CSRFError):
        return False
    return True


def lang() -> str:
    """The current interface language code."""
    return str(get_locale() or "es")


@dataclass
class Flow:
    """One response being filled: the response, the actor and the URL scheme."""

    response: Response
    actor: Actor
    endpoint: str  # blueprint prefix, e.g. "respond" or "evaluate"
    url_args: dict
    header: dict = field(default_factory=dict)
    prefix: str = ""  # view-name prefix of a second questionnaire on the same link ("state_")
    csrf: bool = True  # POSTs need a CSRF token (signed-in actors); False when the URL is the credential

    def csrf_ok(self) -> bool:
        """True when this flow needs no CSRF token or the request carries a valid one."""
        return not self.csrf or csrf_ok()

    def file_url(self, file_id: int) -> str:
        """Where this flow's reader downloads one of the response's evidence files."""
        return self.url("evidence_download", file_id=file_id)

    def url(self, name: str, **extra) -> str:
        """URL of one of this flow's endpoints."""
        return url_for(f"{self.endpoint}.{self.prefix}{name}", **self.url_args, **extra)

    @property
    def readonly(self) -> bool:
        """Submitted or verified responses cannot be edited."""
        return self.response.status != ResponseStatus.DRAFT

    def builder(self, answers: dict | None = None, validation=None, extra: dict | None = None,
                posted: dict | None = None) -> PageBuilder:
        """A PageBuilder over the stored (or given) answers."""
        if answers is None:
            answers = responses.answers_of(self.response)
        if validation is None:
            validation = surveys.validate(self.definition, answers, partial=True)
        return PageBuilder(self.definition, answers, validation, lang(),
                           extra_instances=extra, posted_instances=posted)

    @cached_property
    def definition(self):
        """The `surveys` Definition the response answers (fixed for a response: read once a request)."""
        return responses.definition_of(self.response)

    def _context(self, **extra) -> dict:
        context = {"flow": self, "response": self.response, "readonly": self.readonly,
                   "campaign": self.response.campaign, "institution": self.response.institution}
        context.update(self.header)
        context.update(extra)
        return context

    def landing(self):
        """The landing page: institution, campaign, deadline, progress, instructions."""
        builder = self.builder()
        answered, total = progress(builder.definition, builder.answers, builder.validation)
        return render_template("questionnaire/landing.html", **self._context(
            answered=answered, total=total, pages=len(shown_pages(builder.definition, builder.validation))))

    def resume(self):
        """Continue where the response was left (its receipt once submitted)."""
        if self.readonly:
            return redirect(self.url("receipt"))
        return redirect(self.url("page", n=self.response.last_page or 0))

    def page(self, index: int, *, status: int = 200, answers: dict | None = None, notice: str | None = None,
             extra: dict | None = None, show_errors: bool = True, posted: dict | None = None,
             conflicts: dict | None = None, required: bool = False, file_errors: dict | None = None):
        """Render page `index` (values from the store, or from `answers` when given). Reading a page
        writes nothing. A page skip logic leaves empty sends on to the next page that is not."""
        builder = self.builder(answers=answers, extra=extra, posted=posted)
        if not 0 <= index < builder.count:
            abort(404)
        shown = shown_pages(builder.definition, builder.validation)
        if index not in shown and answers is None:
            later = [i for i in shown if i > index]
            return redirect(self.url("page", n=later[0]) if later else self.url("review"))
        page = builder.page(index)
        if required:  # moving on: the required questions left empty are flagged here, on their page
            complete = surveys.validate(self.definition, builder.answers, partial=False).by_path()
            for f in page.fields:
                if f.relevant and not f.errors and f.path in complete:
                    f.errors = [e.message_en if lang() == "en" else e.message_es for e in complete[f.path]]
        if not show_errors:
            for f in page.fields:
                f.errors = []
        for path, theirs in (conflicts or {}).items():
            for f in page.fields:
                if f.path == path:
                    f.errors = [_("Este campo cambió en otra pestaña o por otra persona mientras usted escribía; "
                                  "quedó guardado «%(theirs)s». Abajo está lo que usted escribió: guarde de nuevo "
                                  "para conservarlo, o cámbielo.", theirs=responses.canonical(theirs) or _("(vacío)"))]
        for path, messages in (file_errors or {}).items():
            for f in page.fields:
                if f.path == path:
                    f.errors = [*f.errors, *messages]
        attachments.decorate(page.fields, self.response, self.definition, self.file_url)
        answered, total = progress(builder.definition, builder.answers, builder.validation)
        errors = [f for f in page.fields if f.errors and f.relevant]
        position = shown.index(index) + 1 if index in shown else index + 1
        previous = max([i for i in shown if i < index], default=None)
        following = min([i for i in shown if i > index], default=None)
        # What the tab is shown: the stored values (base of the next save's conflict check).
        stored = builder.answers if answers is None else responses.answers_of(self.response)
        inputs = [f for f in page.fields if f.widget not in NON_INPUT and not f.question.read_only]
        base = {f.path: responses.canonical(get_path(stored, f.path)) for f in inputs}
        html = render_template("questionnaire/page.html", **self._context(
            page=page, answered=answered, total=total, errors=errors, notice=notice, answers_data=builder.answers,
            shown=shown, position=position, previous=previous, following=following,
            base_json=json.dumps(base, ensure_ascii=False), field_list=" ".join(f.path for f in inputs),
            version=self.response.version or 0, required_flagged=required and bool(errors)))
        return html, status

    def post_page(self, index: int):
        """Save a posted page (one transaction) and go where the pressed button says."""
        if self.readonly:
            return render_template("questionnaire/readonly.html", **self._context()), 409
        posted = posted_instances(request.form)
        builder = self.builder(posted=posted)
        if not 0 <= index < builder.count:
            abort(404)
        page = builder.page(index)
        values = form_values(page, request.form)
        action = request.form.get("action", "next")
        if not self.csrf_ok():
            log.warning("CSRF token missing or expired on %s; re-showing the typed values", request.path)
            answers = responses.answers_of(self.response)
            for path, value in values.items():
                responses.set_path(answers, path, value)
            return self.page(index, answers=answers, status=400, posted=posted, notice=_(
                "Su sesión expiró. No se perdió nada de lo escrito: revise y vuelva a guardar."))
        self.response = self.started()
        mark = responses.SaveMark.parse(request.form.get("_tab"), request.form.get("_seq"))
        result = responses.save_page(self.response, values, self.actor, page=index,  # refusals: errors.py
                                     base=posted_base(request.form), version=posted_version(request.form),
                                     mark=mark)
        file_errors = self._take_files({f.path for f in page.fields})  # after the values are saved: a refused file loses nothing typed
        if action.startswith("attach:") and action[7:] not in dict(attachments.posted_files(request.files)):
            file_errors.setdefault(action[7:], []).append(_("Elija un archivo antes de pulsar «Adjuntar»."))
        if result.conflicts:
            answers = responses.answers_of(self.response)
            for path, value in values.items():
                responses.set_path(answers, path, value)
            return self.page(index, answers=answers, status=409, posted=posted, conflicts=result.conflicts,
                             file_errors=file_errors,
                             notice=ngettext("Un campo cambió en otra pestaña o por otra persona; no se sobrescribió.",
                                             "%(num)d campos cambiaron en otra pestaña o por otra persona; no se "
                                             "sobrescribieron.", len(result.conflicts)))
        if file_errors:
            return self.page(index, status=422, posted=posted, file_errors=file_errors, notice=_(
                "Lo que escribió quedó guardado; el archivo no se adjuntó (vea el motivo junto a la pregunta)."))
        if action.startswith("detach:") and action[7:].isdigit() and len(action) < 20:
            removed = attachments.remove(self.response, int(action[7:]), self.actor)  # refusals: errors.py
            flash(_("Se quitó el archivo «%(name)s».", name=removed.filename), "saved")
            return redirect(self.url("page", n=index) + "#" + dom_id(attachments.path_of(removed.field or "", removed.repeat_index)) + "-wrap")
        if action.startswith("attach:"):
            return redirect(self.url("page", n=index) + "#" + dom_id(action[7:]) + "-wrap")
        extra = {}
        if action.startswith("add:"):
            extra[action[4:]] = 1
            return self.page(index, extra=extra, show_errors=False)
        if action.startswith("remove:"):
            repeat, position = (action.split(":") + ["", ""])[1:3]
            try:
                responses.remove_instance(self.response, repeat, int(position), self.actor)
            except (ServiceError, ValueError):
                abort(400)
            return redirect(self.url("page", n=index) + "#main")
        after_builder = self.builder(answers=result.answers, validation=result.validation)
        after = after_builder.page(index)
        shown_paths = set(filter(None, request.form.get("_shown", "").split(" ")))
        appeared = [f for f in after.fields if f.relevant and f.widget not in NON_INPUT
                    and f.path not in shown_paths and "_shown" in request.form]
        page_errors = [f for f in after.fields if f.errors and f.relevant]
        if action in ("next", "review") and (page_errors or appeared):
            notice = _("Se mostraron preguntas nuevas en esta página.") if appeared and not page_errors else None
            return self.page(index, status=200 if not page_errors else 422, notice=notice)
        if action == "next" and rendered_fields(request.form) is not None:
            # Required questions left empty are flagged on their own page before moving on; the
            # respondent may still go on ("next_anyway"): what they typed is already saved.
            complete = surveys.validate(self.definition, result.answers, partial=False).by_path()
            if any(f.relevant and f.path in complete for f in after.fields if f.widget not in NON_INPUT):
                return self.page(index, status=422, required=True)
        shown = shown_pages(self.definition, result.validation)
        if action == "prev":
            target = max([i for i in shown if i < index], default=shown[0])
        elif action in ("next", "next_anyway"):
            target = min([i for i in shown if i > index], default=builder.count)
        elif action.startswith("goto:") and action[5:].isdigit() and len(action) < 12:
            target = int(action[5:])
        else:
            target = index
        if action == "review" or target >= builder.count:
            return redirect(self.url("review"))
        if target != index:  # the link resumes on the page the respondent went on to
            responses.set_last_page(self.response, target)
        flash(_("Guardado."), "saved")
        return redirect(self.url("page", n=target))

    def _take_files(self, on_page: set[str]) -> dict[str, list[str]]:
        """Keep the evidence files the page form carries for its own questions; the refusals by
        answer path, each naming the file and why (type, size), shown beside its question."""
        errors: dict[str, list[str]] = {}
        for path, file in attachments.posted_files(request.files):
            try:
                if path not in on_page:
                    raise ServiceError(Refusal.EVIDENCE_NOT_ACCEPTED,
                                       question=attachments.label_of(self.definition, path, lang()))
                row = attachments.upload(file, response=self.response, path=path, definition=self.definition,
                                         actor=self.actor, lang=lang())
            except ServiceError as refused:
                errors.setdefault(path, []).append(_("No se adjuntó el archivo: %(why)s", why=refused.message))
                continue
            flash(_("Se adjuntó «%(name)s» a «%(question)s».", name=row.filename,
                    question=attachments.label_of(self.definition, path, lang())), "saved")
        return errors

    def evidence_download(self, file_id: int):
        """One of this response's evidence files, as a download (another response's: 404)."""
        row = attachments.get(file_id)
        if not attachments.link_may_read(row, self.response):
            raise ServiceError(Refusal.EVIDENCE_FILE_NOT_FOUND)
        return attachments.send(row)

    def started(self) -> Response:
        """The response, stored on the first save (opening a link or reading a page stores nothing)."""
        if self.response.id is not None:
            return self.response
        return responses.get_or_create(self.response.campaign, self.response.purpose, self.response.institution)

    def autosave(self):
        """JSON autosave of changed fields; invalid drafts are stored, errors returned.

        The body is `{"answers": {path: value}, "base": {path: value shown}, "version": n,
        "page": i, "tab": id, "seq": n}`: a field changed elsewhere since `base` is kept and
        returned in `conflicts`; an autosave older than one the same tab already saved is ignored.
        """
        if not self.csrf_ok():
            return jsonify(error="csrf", message=_("Sesión expirada; reintentando."), csrf_token=generate_csrf()), 400
        if self.readonly:
            return jsonify(error="readonly", message=_("La respuesta ya fue enviada.")), 409
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("answers"), dict):
            return jsonify(error="bad_request", message=_("Se esperaba JSON con «answers».")), 400
        fields = self.definition.fields
        changes = {}
        for key, value in payload["answers"].items():
            name = str(key).rsplit(".", 1)[-1] if "]." in str(key) else str(key)
            question = fields.get(name)
            changes[str(key)] = normalise(question.type if question else None, value)
        base = payload.get("base") if isinstance(payload.get("base"), dict) else None
        version = payload.get("version") if isinstance(payload.get("version"), int) else None
        page = payload.get("page") if isinstance(payload.get("page"), int) else None
        mark = responses.SaveMark.parse(payload.get("tab"), payload.get("seq"))
        self.response = self.started()
        result = responses.autosave(self.response, changes, self.actor, page=page, base=base, version=version,
                                    mark=mark)  # a refusal is JSON (errors.py)
        errors: dict[str, list[str]] = {}
        for error in result.validation.errors:
            errors.setdefault(error.path, []).append(error.message_en if lang() == "en" else error.message_es)
        conflicts = {path: responses.canonical(value) for path, value in result.conflicts.items()}
        # The progress follows every answer (and the questions skip logic opens or closes) as it
        # happens, instead of changing all at once on the next page.
        answered, total = progress(self.definition, result.answers, result.validation)
        label = ngettext("Avance: %(a)s de %(num)d pregunta", "Avance: %(a)s de %(num)d preguntas", total, a=answered)
        return jsonify(ok=True, saved=result.changed, errors=errors, stale=result.stale, version=result.version,
                       conflicts=conflicts, relevant={k: bool(v) for k, v in result.validation.relevant.items()},
                       progress={"answered": answered, "total": total, "label": label})

    def review(self):
        """Pending required questions and errors, by page, with links; the submit button."""
        answers = responses.answers_of(self.response)
        builder = self.builder(answers, surveys.validate(self.definition, answers, partial=False))
        pages = builder.pages()
        pending = []
        for page in pages:
            items = [f for f in page.fields if f.errors and f.relevant]
            if items:
                pending.append((page, items))
        answered, total = progress(builder.definition, answers, builder.validation)
        shown = shown_pages(builder.definition, builder.validation)
        pages = [page for page in pages if page.index in shown]
        return render_template("questionnaire/review.html", **self._context(
            pending=pending, answered=answered, total=total, pages=pages,
            pending_count=sum(len(items) for _page, items in pending)))

    def submit(self):
        """Explicit submission: validate everything, store, fingerprint, then the receipt."""
        if self.readonly:
            return redirect(self.url("receipt"))
        if not self.csrf_ok():
            flash(_("Su sesión expiró; vuelva a pulsar «Enviar»."), "error")
            return redirect(self.url("review"))
        self.response = self.started()
        try:
            responses.submit(self.response, self.actor)
        except responses.Incomplete:
            flash(_("Faltan respuestas obligatorias o hay errores."), "error")
            return redirect(self.url("review"))
        evidence.check_after_response(self.response.id, "submitted")  # after the answer is sent
        return redirect(self.url("receipt"))

    def receipt(self):
        """The receipt of a submitted response (HTML, printable) with its fingerprint."""
        if self.response.status == ResponseStatus.DRAFT:
            return redirect(self.url("review"))
        builder = self.builder()
        pages = builder.pages()
        for shown_page in pages:
            attachments.decorate(shown_page.fields, self.response, self.definition, self.file_url)
        return render_template("questionnaire/receipt.html", **self._context(pages=pages))
