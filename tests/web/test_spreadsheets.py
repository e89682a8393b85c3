"""Hostile XLSX uploads (a tiny file declaring a huge sheet, a deflate bomb, a giant cell) are
refused with a clear message in bounded memory; an ordinary workbook still reads."""
from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from diagnostic.services import Refusal, ServiceError, spreadsheets

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
ROOT_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
             f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Hoja" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                 f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                 f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')


def workbook(sheet_data: str, dimension: str | None = None, shared: bytes | None = None,
             shared_repeat: int = 0) -> bytes:
    """A hand-made XLSX: the sheet's XML, an optional declared dimension, and a shared-strings part
    (its body `shared` repeated `shared_repeat` times inside one string: a deflate bomb)."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
             + (f'<dimension ref="{dimension}"/>' if dimension else "")
             + f"<sheetData>{sheet_data}</sheetData></worksheet>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'
                       .encode())
            for _ in range(shared_repeat):
                part.write(shared or b"")
            part.write(b"nombre</t></si></sst>")
    return buffer.getvalue()


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


HEADER_ROW = '<row r="1">' + cell("A1", "nombre") + cell("B1", "estado") + "</row>"


@functools.cache
def hostile_files() -> dict[str, bytes]:
    return {
        # 1.5 kB declaring 1,048,576 rows × 16,384 columns, with the last cell filled.
        "huge_sheet": workbook(HEADER_ROW + '<row r="1048576">' + cell("XFD1048576", "x") + "</row>",
                               dimension="A1:XFD1048576"),
        # The same without a dimension: only the streamed rows tell.
        "row_gap": workbook(HEADER_ROW + '<row r="1048576">' + cell("A1048576", "x") + "</row>"),
        # A shared string that inflates to 200 MiB (about 200 kB compressed).
        "string_bomb": workbook(HEADER_ROW, shared=b"a" * (1024 * 1024), shared_repeat=200),
        # One row of 700,000 cells (14 MiB of XML, under the size limit): openpyxl would build them all.
        "wide_row": workbook(HEADER_ROW + '<row r="2">' + "".join(f"<c><v>{i}</v></c>" for i in range(700_000))
                             + "</row>"),
        # Under the size limit, but 10 MiB from a few kilobytes: a compression ratio no real sheet has.
        "ratio_bomb": workbook(HEADER_ROW, shared=b"a" * (1024 * 1024), shared_repeat=10),
    }


READER = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from diagnostic.services import ServiceError, spreadsheets
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = Path(sys.argv[1]).read_bytes()
    try:
        spreadsheets.read_xlsx(data)
        outcome = "read"
    except ServiceError as exc:
        outcome = exc.refusal.name
    except MemoryError:
        outcome = "MemoryError"
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "grew_kib": after - before}))
""")


@pytest.mark.parametrize("name, refusal", [
    ("huge_sheet", Refusal.XLSX_TOO_MANY_ROWS),
    ("row_gap", Refusal.XLSX_TOO_MANY_ROWS),
    ("string_bomb", Refusal.XLSX_PART_TOO_LARGE),
    ("ratio_bomb", Refusal.XLSX_PART_RATIO),
    ("wide_row", Refusal.XLSX_ROW_TOO_WIDE),
])
def test_a_hostile_workbook_is_refused_in_bounded_memory(tmp_path, name, refusal):
    data = hostile_files()[name]
    assert len(data) < 4 * 1024 * 1024
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(data)
    # 768 MiB of address space for the whole interpreter: reading any of these files naively takes far more.
    done = subprocess.run([sys.executable, "-c", READER, str(path), str(768 * 1024 * 1024)],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] == refusal.name
    assert result["grew_kib"] < 64 * 1024  # the peak resident size grew by less than 64 MiB


def test_refusals_say_what_is_wrong_in_both_languages():
    with pytest.raises(ServiceError) as refused:
        spreadsheets.read_xlsx(hostile_files()["huge_sheet"])
    assert refused.value.message_for("es") == "La hoja tiene o declara más de 20000 filas de datos; no se leyó."
    assert "20000" in refused.value.message_for("en") and refused.value.status == 422
    with pytest.raises(ServiceError) as refused:
        spreadsheets.read_xlsx(workbook(HEADER_ROW + '<row r="2">' + cell("A2", "x" * 5000) + "</row>"))
    assert refused.value.refusal is Refusal.XLSX_CELL_TOO_LONG and "fila 2" in refused.value.message_for("es").lower()
    with pytest.raises(ServiceError) as refused:
        spreadsheets.read_xlsx(b"PK\x03\x04 not really a zip")
    assert refused.value.refusal is Refusal.XLSX_INVALID


def test_an_ordinary_workbook_reads_as_rows_of_text():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["nombre", "estado", None])
    sheet.append(["Congreso", "Jalisco", 14])
    sheet.append([None, None, None])
    sheet.append(["Tribunal", " CDMX ", None])
    buffer = io.BytesIO()
    book.save(buffer)
    assert spreadsheets.read_xlsx(buffer.getvalue()) == [
        ["nombre", "estado"], ["Congreso", "Jalisco", "14"], [], ["Tribunal", "CDMX"]]


def test_the_import_page_refuses_a_hostile_workbook_clearly(app, setup):
    from tests.web.conftest import csrf_token, login

    client = app.test_client()
    login(client, setup.admin)
    token = csrf_token(client, "/admin/")
    response = client.post(f"/admin/c/{setup.slug}/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(hostile_files()["huge_sheet"]), "bomba.xlsx")})
    assert response.status_code == 422
    assert "más de 20000 filas" in response.get_data(as_text=True)
