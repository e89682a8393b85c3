"""The OpenAPI 3.1 document of API v1, written by hand beside the routes (a test checks that
every route is described and every described path is a route)."""
from __future__ import annotations

from copy import deepcopy

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict:
    text = {400: "Solicitud no válida / Bad request", 401: "Falta el token o no es válido / Missing or bad token",
            403: "Rol sin permiso / Role not allowed", 404: "No encontrado / Not found",
            409: "Conflicto con el estado actual / Conflict", 413: "Cuerpo demasiado grande / Body too large",
            422: "Datos no válidos / Invalid data"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}} for c in codes}


def _ok(schema: dict, description: str = "OK", status: str = "200") -> dict:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


def _page_of(ref: str) -> dict:
    return {"allOf": [{"$ref": "#/components/schemas/Page"},
                      {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": ref}}}}]}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Campaign slug"}
_PAGE = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
         {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]
_AUTH = [{"bearerAuth": []}]

DOCUMENT: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "Apertura API",
        "version": "1.0.0",
        "summary": "Campaigns, institutions, responses and openness scores (OGP MX0087).",
        "description": ("Read campaigns, institutions, responses and score tables, and submit responses in bulk. "
                        "Authenticate with `Authorization: Bearer <token>` (create a token at /analyst/token or "
                        "with `apertura api token EMAIL`). Errors are JSON: `{error, code, message, details}`; "
                        "validation details carry a `path` and messages in Spanish and English."),
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "servers": [{"url": "/api/v1"}],
    "security": _AUTH,
    "paths": {
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                                  "responses": _ok({"type": "object"})}},
        "/me": {"get": {"operationId": "me", "summary": "The token's account",
                        "responses": {**_ok({"$ref": "#/components/schemas/Me"}), **_errors(401, 403)}}},
        "/campaigns": {"get": {"operationId": "listCampaigns", "summary": "Campaigns, newest first",
                               "parameters": _PAGE,
                               "responses": {**_ok(_page_of("#/components/schemas/Campaign")),
                                             **_errors(400, 401, 403)}}},
        "/campaigns/{slug}": {"get": {"operationId": "getCampaign", "summary": "One campaign with progress counts",
                                      "parameters": [_SLUG],
                                      "responses": {**_ok({"$ref": "#/components/schemas/Campaign"}),
                                                    **_errors(401, 403, 404)}}},
        "/campaigns/{slug}/institutions": {"get": {
            "operationId": "listInstitutions", "summary": "The campaign's institutions",
            "parameters": [_SLUG, *_PAGE, {"name": "state", "in": "query", "schema": {"type": "string"},
                                           "description": "INEGI state code (00–32)"}],
            "responses": {**_ok(_page_of("#/components/schemas/Institution")), **_errors(400, 401, 403, 404)}}},
        "/campaigns/{slug}/responses": {
            "get": {"operationId": "listResponses", "summary": "The campaign's responses (without answers)",
                    "parameters": [_SLUG, *_PAGE, {"name": "status", "in": "query",
                                                   "schema": {"enum": ["draft", "submitted", "verified"]}}],
                    "responses": {**_ok(_page_of("#/components/schemas/Response")), **_errors(400, 401, 403, 404)}},
            "post": {"operationId": "submitResponses",
                     "summary": "Submit responses in bulk, all or nothing",
                     "description": ("Each response's answers are merged into its draft and validated with the "
                                     "questionnaire's rules, exactly as the web form does; if any response has an "
                                     "error nothing is written and every error is returned with its path."),
                     "parameters": [_SLUG],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/BulkSubmission"}}}},
                     "responses": {**_ok({"$ref": "#/components/schemas/BulkResult"}, "Submitted", "201"),
                                   **_errors(400, 401, 403, 404, 409, 413, 422)}},
        },
        "/campaigns/{slug}/responses/{response_id}": {"get": {
            "operationId": "getResponse", "summary": "One response with its answers and verifications",
            "parameters": [_SLUG, {"name": "response_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {**_ok({"$ref": "#/components/schemas/ResponseWithAnswers"}), **_errors(401, 403, 404)}}},
        "/campaigns/{slug}/scores": {"get": {
            "operationId": "getScores", "summary": "A score table (same numbers as the web and `apertura score`)",
            "parameters": [_SLUG, *_PAGE,
                           {"name": "by", "in": "query",
                            "schema": {"enum": ["institution", "state", "type", "order", "nation"], "default": "state"}},
                           {"name": "level", "in": "query", "schema": {"type": "string", "default": "headline"},
                            "description": "headline (index, dimensions, sub-indices) or a model level"}],
            "responses": {**_ok({"$ref": "#/components/schemas/ScorePage"}), **_errors(400, 401, 403, 404, 409)}}},
    },
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "integer"}, "title": {"type": "string"},
                "code": {"type": "string", "description": "Stable code of a service refusal", "examples": ["campaign_not_found"]},
                "message": {"type": "string", "description": "In the request's language (Accept-Language, ?lang=)"},
                "details": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/ErrorDetail"},
                                                                 {"type": "string"}]}}}},
            "ErrorDetail": {"type": "object", "properties": {
                "path": {"type": "string", "examples": ["responses[0].answers.ai_unit"]},
                "message_es": {"type": "string"}, "message_en": {"type": "string"}}},
            "Page": {"type": "object", "required": ["items", "page", "per_page", "total", "pages"], "properties": {
                "items": {"type": "array"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                "total": {"type": "integer"}, "pages": {"type": "integer"}}},
            "Me": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"},
                                                    "role": {"enum": ["admin", "analyst", "evaluator"]}}},
            "Campaign": {"type": "object", "properties": {
                "slug": {"type": "string"}, "name": {"type": "string"}, "year": {"type": "integer"},
                "status": {"enum": ["draft", "open", "closed", "published"]},
                "opens_at": {"type": ["string", "null"], "format": "date-time"},
                "closes_at": {"type": ["string", "null"], "format": "date-time"},
                "index_model": {"type": ["object", "null"]}, "instruments": {"type": "object"},
                "progress": {"type": "object"}}},
            "Institution": {"type": "object", "properties": {
                "key": {"type": "string"}, "name": {"type": "string"}, "state": {"type": "string"},
                "order": {"enum": ["federal", "estatal", "municipal"]}, "type": {"type": "string"}}},
            "Response": {"type": "object", "properties": {
                "id": {"type": "integer"}, "institution": {"type": "string"}, "purpose": {"type": ["string", "null"]},
                "instrument": {"type": "string"}, "status": {"enum": ["draft", "submitted", "verified"]},
                "submitted_at": {"type": ["string", "null"]}, "verified_at": {"type": ["string", "null"]},
                "fingerprint": {"type": ["string", "null"]}}},
            "ResponseWithAnswers": {"allOf": [{"$ref": "#/components/schemas/Response"}, {"type": "object", "properties": {
                "answers": {"type": "array", "items": {"type": "object", "properties": {
                    "field": {"type": "string"}, "repeat_index": {"type": ["integer", "null"]},
                    "value": {"type": ["string", "null"]}, "verified_value": {"type": ["string", "null"]},
                    "verification": {"type": ["string", "null"]}, "reason": {"type": ["string", "null"]}}}}}}]},
            "BulkSubmission": {"type": "object", "required": ["responses"], "properties": {
                "responses": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                    "type": "object", "required": ["institution", "answers"], "properties": {
                        "institution": {"type": "string", "description": "Institution key"},
                        "purpose": {"enum": ["institution", "evaluator", "state"], "default": "institution"},
                        "answers": {"type": "object", "description": "Field → value; a repeat is a list of objects"}}}}}},
            "BulkResult": {"type": "object", "properties": {"submitted": {"type": "array", "items": {
                "type": "object", "properties": {"id": {"type": "integer"}, "institution": {"type": "string"},
                                                 "purpose": {"type": "string"}, "status": {"type": "string"},
                                                 "fingerprint": {"type": "string"}}}}}},
            "ScorePage": {"allOf": [{"$ref": "#/components/schemas/Page"}, {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object"}},
                "metadata": {"type": "object"},
                "columns": {"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "label_es": {"type": "string"}, "label_en": {"type": "string"},
                    "numeric": {"type": "boolean"}}}}}}]},
        },
    },
}


def document() -> dict:
    """A copy of the OpenAPI document."""
    return deepcopy(DOCUMENT)
