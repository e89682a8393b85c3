"""The error raised for an expression that cannot be parsed."""
from __future__ import annotations


class ExpressionError(ValueError):
    """A syntax or usage error in an expression, in Spanish and English, with its column."""

    def __init__(self, message_es: str, message_en: str, column: int = 0) -> None:
        super().__init__(f"{message_en} (column {column})")
        self.message_es = message_es
        self.message_en = message_en
        self.column = column

    def message(self, lang: str = "es") -> str:
        """The message in `lang` ('es' or 'en') with the column."""
        if lang == "en":
            return f"{self.message_en} (column {self.column})"
        return f"{self.message_es} (columna {self.column})"
