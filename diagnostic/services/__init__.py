"""Domain services: every read or write the views, the CLI and the API make goes through here.

Views stay thin (access decorator, one service call, one render). Services take and return
models or plain data, never requests; each write is one transaction committed by the
service itself, and every change to an answer or a status appends to the audit log.
Refusals are `ServiceError` (or `NotFound`, `Conflict`), defined below.

Modules, by what they hold:
- set-up: `states`, `users`, `tokens` (API tokens), `institutions`, `instruments`,
  `campaigns`, `invitations`, `assignments`;
- answering and checking: `responses` (saves, submission, reopening, verification),
  `review` (progress and one response's review), `audit` (the append-only log);
- results: `scores` (scoring a campaign), `exports` (CSV, XLSX, codebook),
  `report` (the data of a per-state report; charts and PDF are drawn in `diagnostic.reports`);
- `demo` (a realistic demo campaign).
"""
from __future__ import annotations


class ServiceError(Exception):
    """A refusal the user can act on; `message` is shown as is, `status` is the HTTP code."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        if status is not None:
            self.status = status


class NotFound(ServiceError):
    """The thing asked for does not exist (404)."""

    status = 404


class Conflict(ServiceError):
    """The request contradicts the current state, e.g. editing a submitted response (409)."""

    status = 409
