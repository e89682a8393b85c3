"""Institution files come as Excel writes them: a mix of encodings must keep every accent."""
from __future__ import annotations

from diagnostic.services import institutions


def test_mixed_utf8_and_windows_1252_lines_keep_their_accents():
    header = b"name,state,order,type\r\n"
    utf8_line = "Secretaría de la Función Pública de Querétaro,Querétaro,estatal,ejecutivo\r\n".encode()
    cp1252_line = "Congreso de Michoacán,Michoacán,estatal,legislativo\r\n".encode("cp1252")
    rows = institutions.parse_file(b"\xef\xbb\xbf" + header + utf8_line + cp1252_line, "sujetos.csv")
    names = [r["name"] for r in rows]
    assert names == ["Secretaría de la Función Pública de Querétaro", "Congreso de Michoacán"]
    assert [r["state_code"] for r in rows] == ["22", "16"]
