"""Robust CSV reading for imported scores: UTF-8 with or without BOM, Windows-1252 /
Latin-1 exports, CRLF, and a few undecodable bytes. Each line is decoded on its own and
repaired when needed, and the repaired rows are reported; an accent never sinks a file."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Repair:
    """A line whose bytes were not valid in the file's encoding and were repaired."""

    line: int
    how: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.how}: {self.text[:80]}"


@dataclass(slots=True)
class CsvRead:
    """A decoded CSV: the frame (all text), the encoding seen and the repaired lines."""

    frame: pd.DataFrame
    encoding: str
    repairs: list[Repair] = field(default_factory=list)
    had_bom: bool = False
    line_of_row: list[int] = field(default_factory=list)


_MOJIBAKE_MARKERS = ("Ã", "Â")


def _fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1/CP1252 (`MÃ©xico` → `México`) when that is what happened."""
    if not any(m in text for m in _MOJIBAKE_MARKERS):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def _decode_cp1252(raw: bytes) -> tuple[str, bool]:
    """Windows-1252 text, falling back to Latin-1 for its five undefined bytes (then repaired)."""
    try:
        return raw.decode("cp1252"), False
    except UnicodeDecodeError:
        return raw.decode("latin-1"), True


def decode_lines(data: bytes) -> tuple[list[str], str, list[Repair], bool]:
    """Decode bytes line by line: (lines, encoding, repairs, had_bom)."""
    had_bom = data.startswith(BOM)
    if had_bom:
        data = data[len(BOM):]
    raw_lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    utf8_ok = utf8_bad = 0
    for raw in raw_lines:
        if max(raw, default=0) < 0x80:
            continue
        try:
            raw.decode("utf-8")
            utf8_ok += 1
        except UnicodeDecodeError:
            utf8_bad += 1
    encoding = "utf-8" if utf8_ok >= utf8_bad else "cp1252"
    lines: list[str] = []
    repairs: list[Repair] = []
    for number, raw in enumerate(raw_lines, start=1):
        if encoding == "utf-8":
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text, _ = _decode_cp1252(raw)
                repairs.append(Repair(number, "decoded as Windows-1252 / decodificada como Windows-1252", text))
        else:
            text, odd = _decode_cp1252(raw)
            if odd:
                repairs.append(Repair(number, "bytes undefined in Windows-1252 read as Latin-1 / "
                                      "bytes no definidos en Windows-1252 leídos como Latin-1", text))
        fixed = _fix_mojibake(text)
        if fixed != text:
            repairs.append(Repair(number, "mojibake repaired / texto mal codificado reparado", fixed))
            text = fixed
        lines.append(text)
    return lines, encoding, repairs, had_bom


def read_csv(source: str | Path | bytes) -> CsvRead:
    """Read a CSV of any common Mexican export encoding into an all-text DataFrame."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    lines, encoding, repairs, had_bom = decode_lines(data)
    sample = "\n".join(lines[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter if sample else ","
    except csv.Error:
        delimiter = ","
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
    text = "\n".join(line for _, line in numbered)
    frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                        skipinitialspace=True, engine="python")
    frame.columns = [str(c).strip() for c in frame.columns]
    line_of_row = [i for i, _ in numbered[1:]][: len(frame)]
    return CsvRead(frame, encoding, repairs, had_bom, line_of_row)
