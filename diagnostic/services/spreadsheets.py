"""Reading an uploaded XLSX workbook in bounded memory, whatever the file declares.

An XLSX is a zip of XML parts. A 2 kB file can declare a sheet of 1,048,576 × 16,384 cells
(openpyxl pads every row to the declared width and fills row gaps with empty rows) or hold
a deflate bomb (a part that inflates to gigabytes). `read_xlsx` refuses such files before
building rows:

1. the zip's central directory is checked first: number of parts, the uncompressed size
   each part declares (zipfile never inflates a part beyond its declared size, so the
   declared size bounds the memory), their total, and the compression ratio;
2. each worksheet part is streamed once with a plain XML parser: rows counted, row numbers
   and cells per row checked (openpyxl builds a whole row's cells before cutting them);
3. the workbook is opened by openpyxl in read-only (streaming) mode; the sheet's declared
   dimension is checked against the row and column limits;
4. rows are streamed one at a time, at most `max_columns` wide; reading stops with a
   refusal as soon as a row lies beyond `max_rows` (also when no dimension is declared or
   it lies), and every cell's text is cut-checked against `max_cell_chars`.

Everything refused is a `ServiceError` with a coded `Refusal` (Spanish and English).
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from diagnostic.services import Refusal, ServiceError


@dataclass(frozen=True)
class Limits:
    """What an uploaded workbook may hold."""

    max_rows: int = 20001  # header included
    max_columns: int = 60
    max_cell_chars: int = 2000
    max_row_cells: int = 1000  # cells written in one row, empty ones included
    max_parts: int = 200
    max_part_bytes: int = 16 * 1024 * 1024  # one XML part once inflated
    max_total_bytes: int = 48 * 1024 * 1024  # every part once inflated
    max_ratio: int = 200  # inflated / compressed, for parts over 1 MiB


DEFAULT_LIMITS = Limits()


def check_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a file that is not a zip or whose parts would inflate beyond the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ServiceError(Refusal.XLSX_INVALID) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > limits.max_parts:
            raise ServiceError(Refusal.XLSX_TOO_MANY_PARTS, count=len(parts), maximum=limits.max_parts)
        total = 0
        for part in parts:
            size = part.file_size
            total += size
            if size > limits.max_part_bytes:
                raise ServiceError(Refusal.XLSX_PART_TOO_LARGE, part=part.filename, size=_mib(size),
                                   maximum=_mib(limits.max_part_bytes))
            if size > 1024 * 1024 and size > limits.max_ratio * max(part.compress_size, 1):
                raise ServiceError(Refusal.XLSX_PART_RATIO, part=part.filename,
                                   ratio=size // max(part.compress_size, 1))
        if total > limits.max_total_bytes:
            raise ServiceError(Refusal.XLSX_CONTENT_TOO_LARGE, size=_mib(total), maximum=_mib(limits.max_total_bytes))


def check_sheets(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Stream every worksheet part once (bounded memory) and refuse one with too many rows, a row
    numbered beyond the limit, or a row of more cells than `max_row_cells` (openpyxl builds a whole
    row's cells before it cuts them to the columns asked for). Documents with a DTD are refused."""
    from xml.etree.ElementTree import ParseError, iterparse

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in archive.infolist():
            if not (part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")):
                continue
            with archive.open(part) as stream:
                if b"<!DOCTYPE" in stream.read(4096).upper():
                    raise ServiceError(Refusal.XLSX_UNREADABLE, problem="DOCTYPE")
            rows = 0
            try:
                with archive.open(part) as stream:
                    cells = 0
                    for event, element in iterparse(stream, events=("start", "end")):
                        tag = element.tag.rpartition("}")[2]
                        if event == "start":
                            if tag == "row":
                                rows, cells = rows + 1, 0
                                number = element.get("r") or ""
                                current = int(number) if number.isdigit() else rows
                                if rows > limits.max_rows or current > limits.max_rows:
                                    raise ServiceError(Refusal.XLSX_TOO_MANY_ROWS, maximum=limits.max_rows - 1)
                            elif tag == "c":
                                cells += 1
                                if cells > limits.max_row_cells:
                                    raise ServiceError(Refusal.XLSX_ROW_TOO_WIDE, row=current,
                                                   maximum=limits.max_row_cells)
                        elif tag in ("row", "sheetData"):
                            element.clear()
            except (ParseError, zipfile.BadZipFile, EOFError, OSError) as exc:
                raise ServiceError(Refusal.XLSX_UNREADABLE, problem=exc) from None


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def read_xlsx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[list[str]]:
    """The first sheet's rows as lists of stripped strings (trailing empty rows dropped).

    Memory stays bounded by the limits whatever the file declares; a file beyond them is
    refused with a coded `Refusal` (`XLSX_*`) before its rows are built.
    """
    import openpyxl

    check_zip(data, limits)
    check_sheets(data, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ServiceError:
        raise
    except Exception as exc:  # openpyxl raises many types for broken files
        raise ServiceError(Refusal.XLSX_UNREADABLE, problem=exc) from None
    try:
        if not book.worksheets:
            raise ServiceError(Refusal.XLSX_UNREADABLE, problem="no worksheet")
        sheet = book.worksheets[0]
        try:
            declared_rows, declared_columns = sheet.max_row, sheet.max_column
        except Exception:  # a malformed dimension: rely on the streaming checks below
            declared_rows = declared_columns = None
        _check_shape(declared_rows, declared_columns, limits)
        rows: list[list[str]] = []
        pending_empty = 0
        try:
            for number, values in enumerate(sheet.iter_rows(max_col=limits.max_columns, values_only=True), start=1):
                if number > limits.max_rows:
                    raise ServiceError(Refusal.XLSX_TOO_MANY_ROWS, maximum=limits.max_rows - 1)
                row = [_cell(v, number, limits) for v in values]
                while row and row[-1] == "":
                    row.pop()
                if not row:
                    pending_empty += 1
                    continue
                rows.extend([] for _ in range(pending_empty))
                pending_empty = 0
                rows.append(row)
        except ServiceError:
            raise
        except Exception as exc:
            raise ServiceError(Refusal.XLSX_UNREADABLE, problem=exc) from None
        return rows
    finally:
        book.close()


def _check_shape(rows: int | None, columns: int | None, limits: Limits) -> None:
    if rows is not None and rows > limits.max_rows:
        raise ServiceError(Refusal.XLSX_TOO_MANY_ROWS, maximum=limits.max_rows - 1)
    # Wider declared sheets are read only up to max_columns; the extra columns must be empty.
    del columns


def _cell(value: object, row: int, limits: Limits) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if len(text) > limits.max_cell_chars:
        raise ServiceError(Refusal.XLSX_CELL_TOO_LONG, row=row, maximum=limits.max_cell_chars)
    return text
