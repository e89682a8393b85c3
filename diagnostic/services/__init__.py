"""Domain services: every read or write the views, the CLI and the API make goes through here.

Views stay thin (access decorator, one service call, one render). Services take and return
models or plain data, never requests; each write is one transaction committed by the
service itself, and every change to an answer or a status appends to the audit log.
Refusals are `ServiceError` (or `NotFound`, `Conflict`), defined below, each with a coded
`Refusal` from `refusals` whose message exists in Spanish and English.

Modules, by what they hold:
- refusals: `refusals` (every coded refusal, in Spanish and English);
- set-up: `states`, `users`, `tokens` (API tokens), `institutions`, `instruments`,
  `campaigns`, `invitations`, `assignments`;
- invitations by e-mail: `mail` (one SMTP connection per batch, or the outbox folder),
  `mailings` (wording per campaign, status and send log of each invitation, send/remind);
- answering and checking: `responses` (saves, submission, reopening, verification),
  `review` (progress and one response's review), `audit` (the append-only log);
- results: `scores` (scoring a campaign), `exports` (CSV, XLSX, codebook),
  `report` (the data of a per-state report; charts and PDF are drawn in `diagnostic.reports`);
- `demo` (a realistic demo campaign).
"""
from __future__ import annotations

from diagnostic.services.refusals import Refusal, current_lang, detail_json, detail_text


class ServiceError(Exception):
    """A refusal the user can act on: a coded `Refusal` with its parameters, shown in the reader's language.

    `status` is the HTTP code (the refusal's own unless given).
    """

    status = 400

    def __init__(self, refusal: Refusal, *, details: list | None = None, status: int | None = None,
                 **params: object):
        if not isinstance(refusal, Refusal):
            raise TypeError(f"a refusal is a Refusal member, not {refusal!r}")
        self.refusal, self.params = refusal, params
        self.details = list(details or [])
        self.status = status if status is not None else refusal.status
        super().__init__(self.message_for("es"))  # also checks every parameter is given

    @property
    def code(self) -> str:
        """A stable identifier of the refusal for clients (`campaign_not_found`)."""
        return self.refusal.code

    def message_for(self, lang: str) -> str:
        """The message in `lang` ('es' or 'en')."""
        return self.refusal.render(lang, **self.params)

    @property
    def message(self) -> str:
        """The message in the interface language of the current request (Spanish outside one)."""
        return self.message_for(current_lang())

    def details_for(self, lang: str) -> list[str]:
        """The details as lines of text in `lang`."""
        return [detail_text(d, lang) for d in self.details]

    def details_json(self, lang: str) -> list:
        """The details for a JSON body: bilingual records as they are, other lines in `lang`."""
        return [detail_json(d, lang) for d in self.details]


class NotFound(ServiceError):
    """The thing asked for does not exist (404)."""

    status = 404


class Conflict(ServiceError):
    """The request contradicts the current state, e.g. editing a submitted response (409)."""

    status = 409
