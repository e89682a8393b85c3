"""Tokenizer for the XLSForm/ODK expression subset."""
from __future__ import annotations

import re
from dataclasses import dataclass

from surveys.expressions.errors import ExpressionError

# Token kinds.
NUMBER = "number"
STRING = "string"
REF = "ref"  # ${name}
NAME = "name"  # function names, keywords and bare choice columns
DOT = "."
DOTDOT = ".."
OP = "op"
LPAREN = "("
RPAREN = ")"
COMMA = ","
END = "end"

KEYWORD_OPERATORS = frozenset({"and", "or", "div", "mod"})

_NUMBER = re.compile(r"(?:\d+\.\d*|\.\d+|\d+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[-:][A-Za-z_][A-Za-z0-9_]*)*")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: kind, text (or value) and 1-based column."""

    kind: str
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; raises `ExpressionError` with the column."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch in " \t\r\n":
            i += 1
            continue
        if ch == "$":
            if not text.startswith("${", i):
                raise ExpressionError("se esperaba '{' después de '$'", "expected '{' after '$'", col)
            end = text.find("}", i + 2)
            if end < 0:
                raise ExpressionError("falta '}' en la referencia", "missing '}' in reference", col)
            name = text[i + 2 : end].strip()
            if not _FIELD_NAME.match(name):
                raise ExpressionError(
                    f"nombre de campo inválido en la referencia: '{name}'",
                    f"invalid field name in reference: '{name}'",
                    col,
                )
            tokens.append(Token(REF, name, col))
            i = end + 1
            continue
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExpressionError("cadena sin cerrar", "unterminated string", col)
            tokens.append(Token(STRING, text[i + 1 : end], col))
            i = end + 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            assert m is not None
            tokens.append(Token(NUMBER, m.group(), col))
            i = m.end()
            continue
        if ch == ".":
            if text.startswith("..", i):
                tokens.append(Token(DOTDOT, "..", col))
                i += 2
            else:
                tokens.append(Token(DOT, ".", col))
                i += 1
            continue
        if ch == "(":
            tokens.append(Token(LPAREN, ch, col))
            i += 1
            continue
        if ch == ")":
            tokens.append(Token(RPAREN, ch, col))
            i += 1
            continue
        if ch == ",":
            tokens.append(Token(COMMA, ch, col))
            i += 1
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token(OP, op, col))
                i += len(op)
                break
        else:
            m = _NAME.match(text, i)
            if m is None:
                raise ExpressionError(
                    f"carácter inesperado '{ch}'", f"unexpected character '{ch}'", col
                )
            word = m.group()
            tokens.append(Token(OP if word in KEYWORD_OPERATORS else NAME, word, col))
            i = m.end()
    tokens.append(Token(END, "", n + 1))
    return tokens
