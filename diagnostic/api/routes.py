"""API v1 views: a token check, one service call, JSON out (errors are JSON too)."""
from __future__ import annotations

from flask import g, jsonify, request

from diagnostic.api import bp, service
from diagnostic.api.openapi import document
from diagnostic.models import Role
from diagnostic.security import token_required
from diagnostic.services import scores


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public)."""
    return jsonify(document())


@bp.get("/me")
@token_required()
def me():
    """The account the token belongs to."""
    user = g.api_user
    return jsonify(email=user.email, name=user.name, role=user.role.value)


@bp.get("/campaigns")
@token_required()
def campaigns():
    """Campaigns, newest first (paginated)."""
    return jsonify(service.list_campaigns(service.PageArgs.from_args(request.args)))


@bp.get("/campaigns/<slug>")
@token_required()
def campaign(slug: str):
    """One campaign with its progress counts."""
    return jsonify(service.get_campaign(slug))


@bp.get("/campaigns/<slug>/institutions")
@token_required()
def institutions(slug: str):
    """The campaign's institutions (paginated; `state` filters)."""
    return jsonify(service.list_institutions(slug, service.PageArgs.from_args(request.args),
                                             request.args.get("state") or None))


@bp.get("/campaigns/<slug>/responses")
@token_required()
def responses(slug: str):
    """The campaign's responses without answers (paginated; `status` filters)."""
    return jsonify(service.list_responses(slug, service.PageArgs.from_args(request.args),
                                          request.args.get("status") or None))


@bp.post("/campaigns/<slug>/responses")
@token_required()
def submit_responses(slug: str):
    """Submit responses in bulk, all or nothing (422 with located errors)."""
    return jsonify(service.submit_bulk(slug, request.get_json(silent=True), g.api_user)), 201


@bp.get("/campaigns/<slug>/responses/<int:response_id>")
@token_required()
def response(slug: str, response_id: int):
    """One response with its answers and verifications."""
    return jsonify(service.get_response(slug, response_id))


@bp.get("/campaigns/<slug>/scores")
@token_required()
def score_table(slug: str):
    """A score table by institution, state, type, order or nation (paginated)."""
    return jsonify(service.get_scores(slug, service.PageArgs.from_args(request.args),
                                      request.args.get("by", "state"), request.args.get("level", scores.HEADLINE)))


@bp.put("/campaigns/<slug>/index-model")
@token_required(Role.ADMIN)
def index_model(slug: str):
    """Give the campaign a shipped or uploaded index model, checked against its questionnaires (admins)."""
    return jsonify(service.set_index_model(slug, request.get_json(silent=True), g.api_user))
@bp.post("/campaigns/<slug>/submissions")
@token_required()
def import_submissions(slug: str):
    """Import a KoboToolbox or ODK Central export (multipart `file`), all or nothing;
    `dry_run=1` previews (200), otherwise 201 with what was written, 422 with located errors."""
    from diagnostic.services import Refusal, ServiceError, campaigns, submissions
    from diagnostic.services.audit import Actor

    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(Refusal.SUBMISSIONS_FILE_MISSING)
    campaign = campaigns.get_by_slug(slug)
    options = {"key_column": request.args.get("key_column") or submissions.DEFAULT_KEY_COLUMN,
               "purpose": request.args.get("purpose") or "institution"}
    data = upload.read()
    if request.args.get("dry_run") in ("1", "true", "yes"):
        return jsonify(submissions.preview(campaign, data, upload.filename, **options).as_dict())
    applied = submissions.apply(campaign, data, upload.filename, Actor.for_user(g.api_user), **options)
    return jsonify(applied.as_dict()), 201
