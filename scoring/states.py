"""Mexico's 32 states plus `00` (federal bodies): INEGI codes, names, abbreviations, and a
resolver that accepts any spelling (accent-, case-, space- and punctuation-insensitive)."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "states.csv"
FEDERAL = "00"


@dataclass(frozen=True, slots=True)
class State:
    """One entidad federativa (or `00`, the federal bodies)."""

    code: str
    abbr: str
    name: str
    aliases: tuple[str, ...]


def normalise(text: object) -> str:
    """Lower-case ASCII letters and digits only: `Edo. de México` → `edodemexico`."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]", "", ascii_text)


@cache
def all_states() -> tuple[State, ...]:
    """Every state in INEGI order, `00` first."""
    with DATA.open(encoding="utf-8", newline="") as handle:
        return tuple(
            State(row["code"], row["abbr"], row["name"], tuple(a for a in row["aliases"].split("|") if a))
            for row in csv.DictReader(handle)
        )


@cache
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for state in all_states():
        for spelling in (state.code, state.abbr, state.name, *state.aliases):
            table[normalise(spelling)] = state.code
        table[str(int(state.code))] = state.code
    return table


def by_code(code: str) -> State:
    """The state with INEGI code `code` (`'09'`)."""
    for state in all_states():
        if state.code == code:
            return state
    raise KeyError(code)


def resolve(value: object) -> str | None:
    """INEGI code (`'15'`) for any spelling of a state, or None when it cannot be resolved."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or not value.is_integer():
            return None
        value = int(value)
    key = normalise(value)
    if not key:
        return None
    table = _lookup()
    if key in table:
        return table[key]
    if key.isdigit():
        return table.get(str(int(key)))
    for prefix in ("estadode", "edode", "estadolibreysoberanode", "gobiernode"):
        if key.startswith(prefix) and key[len(prefix):] in table:
            return table[key[len(prefix):]]
    return None


@cache
def _prefixes() -> list[tuple[str, str]]:
    pairs = {(k, code) for k, code in _lookup().items() if not k.isdigit() and len(k) >= 4}
    return sorted(pairs, key=lambda p: -len(p[0]))


def split_prefixed_name(name: str, state: str | None = None) -> tuple[str | None, str]:
    """Split an MGA institution name prefixed with its state (`NuevoLeon_Congreso`) into
    (INEGI code or None, bare name); when `state` is given only that state's spellings count."""
    text = str(name).strip()
    wanted = resolve(state) if state is not None else None
    # Walk the name's characters, matching the normalised prefix against known spellings.
    for key, code in _prefixes():
        if wanted is not None and code != wanted:
            continue
        consumed, matched = 0, ""
        while consumed < len(text) and len(matched) < len(key):
            matched += normalise(text[consumed])
            consumed += 1
        if matched == key:
            rest = text[consumed:]
            if rest[:1].isalnum() and not rest[:1].isupper() and rest[:1] not in "0123456789":
                continue  # the prefix ran into a word: `Sonorense...` is not `Sonora`
            return code, rest.lstrip(" _-:.|/").strip() or text
    return None, text
