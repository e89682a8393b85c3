"""The base of the scoring message enums: each member is a (severity, Spanish, English)
template, as in `surveys.issues.IssueCode`."""
from __future__ import annotations

from enum import Enum

ERROR = "error"
WARNING = "warning"


class MessageCode(Enum):
    """An enum of user-facing messages; subclasses list members as (severity, es, en) templates."""

    @property
    def severity(self) -> str:
        """'error' or 'warning'."""
        return self.value[0]

    def messages(self, **params: object) -> tuple[str, str]:
        """The Spanish and English messages with `params` filled in (`x_en` defaults to `x`)."""
        english = dict(params)
        for name, value in params.items():
            english.setdefault(f"{name}_en", value)
        return self.value[1].format(**params), self.value[2].format(**english)
