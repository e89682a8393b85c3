"""Recursive-descent parser: tokens to an AST, with arity checks on known functions."""
from __future__ import annotations

from surveys.expressions import lexer
from surveys.expressions.errors import ExpressionError
from surveys.expressions.lexer import Token
from surveys.expressions.nodes import (
    Binary,
    Call,
    Column,
    Current,
    Literal,
    Node,
    Parent,
    Ref,
    Unary,
)
from surveys.expressions.runtime import compile_regex

# name -> (minimum arguments, maximum arguments or None for any number)
ARITY: dict[str, tuple[int, int | None]] = {
    "not": (1, 1),
    "if": (3, 3),
    "selected": (2, 2),
    "selected-at": (2, 2),
    "count-selected": (1, 1),
    "coalesce": (2, 2),
    "concat": (1, None),
    "join": (2, None),
    "string-length": (1, 1),
    "regex": (2, 2),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "substr": (2, 3),
    "today": (0, 0),
    "int": (1, 1),
    "number": (1, 1),
    "string": (1, 1),
    "boolean": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "round": (1, 2),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "abs": (1, 1),
    "pow": (2, 2),
    "date": (1, 1),
    "decimal-date-time": (1, 1),
    "business-days": (2, 2),
    "sum": (1, 1),
    "count": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "position": (0, 1),
}

_EQUALITY = ("=", "!=")
_RELATIONAL = ("<", "<=", ">", ">=")
_ADDITIVE = ("+", "-")
_MULTIPLICATIVE = ("*", "div", "mod")
MAX_DEPTH = 60


class Parser:
    """Parses one expression; `parse()` returns the root node."""

    def __init__(self, text: str) -> None:
        self.tokens = lexer.tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str, es: str, en: str) -> Token:
        if self.tok.kind != kind:
            found_es = "el final" if self.tok.kind == lexer.END else f"'{self.tok.text}'"
            found_en = "the end" if self.tok.kind == lexer.END else f"'{self.tok.text}'"
            raise ExpressionError(
                f"{es}; se encontró {found_es}", f"{en}; found {found_en}", self.tok.column
            )
        return self.advance()

    def parse(self) -> Node:
        if self.tok.kind == lexer.END:
            raise ExpressionError("expresión vacía", "empty expression", 1)
        node = self.parse_or()
        if self.tok.kind != lexer.END:
            raise ExpressionError(
                f"texto inesperado '{self.tok.text}'",
                f"unexpected text '{self.tok.text}'",
                self.tok.column,
            )
        return node

    def _binary(self, ops: tuple[str, ...], operand) -> Node:
        left = operand()
        while self.tok.kind == lexer.OP and self.tok.text in ops:
            op = self.advance()
            right = operand()
            left = Binary(op.text, left, right, op.column)
        return left

    def parse_or(self) -> Node:
        return self._binary(("or",), self.parse_and)

    def parse_and(self) -> Node:
        return self._binary(("and",), self.parse_equality)

    def parse_equality(self) -> Node:
        return self._binary(_EQUALITY, self.parse_relational)

    def parse_relational(self) -> Node:
        return self._binary(_RELATIONAL, self.parse_additive)

    def parse_additive(self) -> Node:
        return self._binary(_ADDITIVE, self.parse_multiplicative)

    def parse_multiplicative(self) -> Node:
        return self._binary(_MULTIPLICATIVE, self.parse_unary)

    def parse_unary(self) -> Node:
        if self.tok.kind == lexer.OP and self.tok.text == "-":
            op = self.advance()
            self._enter(op)
            try:
                operand = self.parse_unary()
            finally:
                self.depth -= 1
            if isinstance(operand, Literal) and isinstance(operand.value, int | float):
                return Literal(-operand.value, op.column)
            return Unary(operand, op.column)
        return self.parse_primary()

    def _enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                "expresión demasiado anidada", "expression nested too deeply", tok.column
            )

    def parse_primary(self) -> Node:
        tok = self.tok
        if tok.kind == lexer.NUMBER:
            self.advance()
            text = tok.text
            value: int | float = int(text) if text.isdigit() else float(text)
            return Literal(value, tok.column)
        if tok.kind == lexer.STRING:
            self.advance()
            return Literal(tok.text, tok.column)
        if tok.kind == lexer.REF:
            self.advance()
            return Ref(tok.text, tok.column)
        if tok.kind == lexer.DOT:
            self.advance()
            return Current(tok.column)
        if tok.kind == lexer.DOTDOT:
            self.advance()
            return Parent(tok.column)
        if tok.kind == lexer.LPAREN:
            self.advance()
            self._enter(tok)
            try:
                node = self.parse_or()
            finally:
                self.depth -= 1
            self.expect(lexer.RPAREN, "falta ')'", "missing ')'")
            return node
        if tok.kind == lexer.NAME:
            self.advance()
            if self.tok.kind == lexer.LPAREN:
                return self.parse_call(tok)
            return Column(tok.text, tok.column)
        if tok.kind == lexer.END:
            raise ExpressionError(
                "la expresión termina antes de tiempo", "expression ends too early", tok.column
            )
        raise ExpressionError(
            f"se esperaba un valor y se encontró '{tok.text}'",
            f"expected a value, found '{tok.text}'",
            tok.column,
        )

    def parse_call(self, name: Token) -> Node:
        self.advance()  # "("
        self._enter(name)
        args: list[Node] = []
        try:
            if self.tok.kind != lexer.RPAREN:
                args.append(self.parse_or())
                while self.tok.kind == lexer.COMMA:
                    self.advance()
                    args.append(self.parse_or())
            self.expect(lexer.RPAREN, "falta ')' al final de los argumentos", "missing ')' after arguments")
        finally:
            self.depth -= 1
        fname = name.text
        if fname not in ARITY:
            raise ExpressionError(
                f"función desconocida '{fname}()'", f"unknown function '{fname}()'", name.column
            )
        low, high = ARITY[fname]
        if len(args) < low or (high is not None and len(args) > high):
            expected = str(low) if low == high else (f"{low} o más" if high is None else f"{low} a {high}")
            expected_en = str(low) if low == high else (f"{low} or more" if high is None else f"{low} to {high}")
            raise ExpressionError(
                f"'{fname}()' recibe {expected} argumentos, no {len(args)}",
                f"'{fname}()' takes {expected_en} arguments, not {len(args)}",
                name.column,
            )
        if fname == "regex" and isinstance(args[1], Literal) and compile_regex(str(args[1].value)) is None:
            raise ExpressionError(
                "expresión regular inválida", "invalid regular expression", args[1].column
            )
        if fname == "position" and args and not isinstance(args[0], Parent):
            raise ExpressionError(
                "position() solo admite '..'", "position() only accepts '..'", args[0].column
            )
        return Call(fname, tuple(args), name.column)


def parse_tree(text: str) -> Node:
    """Parse text to an AST root; raises `ExpressionError`."""
    if not isinstance(text, str):
        raise ExpressionError("la expresión debe ser texto", "the expression must be text", 0)
    return Parser(text).parse()
