"""A fast, plain Office Open XML (.xlsx) writer for geo's tables.

Tables of hundreds of thousands of rows are written column-wise with vectorised
string operations instead of one Python call per cell.  What it writes: one sheet per
table, a bold frozen header row with filters, column widths, numbers stored as numbers
with a number format per column, booleans, and text as inline strings.  Text is always
a string cell (``t="inlineStr"``): nothing written here is ever a formula.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
#: Characters XML 1.0 cannot hold (control characters other than tab, newline, return).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def column_letter(i: int) -> str:
    """Spreadsheet column name of the 0-based column ``i``.

    Examples
    --------
    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _text_tails(values: pd.Series) -> np.ndarray:
    """The part of each text cell after its reference; each distinct value is escaped once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    tails = []
    for u in uniques.tolist():
        text = escape(_ILLEGAL.sub("", str(u)))
        tails.append(f'" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>' if text else '"/>')
    return np.array([*tails, '"/>'], dtype=object)[codes]  # code -1 (missing) takes the last: a blank


def _number_tails(values: pd.Series, style: int) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(v)
    integral = ok & (v == np.round(v)) & (np.abs(v) < 1e15)
    rest = ok & ~integral
    head = f'" s="{style}"><v>'
    out = np.full(len(v), '"/>', dtype=object)
    out[integral] = [f"{head}{x}</v></c>" for x in v[integral].astype(np.int64).tolist()]
    out[rest] = [f"{head}{x!r}</v></c>" for x in v[rest].tolist()]
    return out


def _bool_tails(values: pd.Series) -> np.ndarray:
    flags = values.fillna(False).astype(bool).to_numpy()
    return np.where(flags, '" t="b"><v>1</v></c>', '" t="b"><v>0</v></c>').astype(object)


def _tails(s: pd.Series, style: int) -> np.ndarray:
    """Each cell of a column, less its ``<c r="A1`` head."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return _bool_tails(s)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _number_tails(s, style)
    values = s.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return _text_tails(values)
    # A mix (e.g. the summary's values): numbers and booleans in it keep their type.
    kind = values.map(lambda v: 2 if isinstance(v, (bool, np.bool_)) else 1 if _is_number(v) else 0).to_numpy()
    out = _text_tails(values.where(kind == 0))
    if (kind == 1).any():
        out = np.where(kind == 1, _number_tails(values.where(kind == 1), style), out)
    if (kind == 2).any():
        out = np.where(kind == 2, _bool_tails(values.where(kind == 2, False)), out)
    return out


def _sheet_xml(df: pd.DataFrame, styles: dict[str, int], fmt_of: Callable[[str], str | None]) -> str:
    n, cols = len(df), list(df.columns)
    rows = np.arange(2, n + 2)
    numbers = rows.tolist()
    columns = []
    for j, col in enumerate(cols):
        head = f'<c r="{column_letter(j)}'
        tails = _tails(df[col], styles.get(fmt_of(str(col)) or "", 0)).tolist()
        columns.append([f"{head}{r}{t}" for r, t in zip(numbers, tails)])
    lines = [f'<row r="{r}">{"".join(cells)}</row>' for r, *cells in zip(numbers, *columns)]
    header = "".join(
        f'<c r="{column_letter(j)}1" t="inlineStr" s="1"><is><t xml:space="preserve">'
        f"{escape(_ILLEGAL.sub('', str(c)))}</t></is></c>"
        for j, c in enumerate(cols)
    )
    widths = "".join(
        f'<col min="{j + 1}" max="{j + 1}" width="{_width(df[c], str(c))}" customWidth="1"/>'
        for j, c in enumerate(cols)
    )
    last = f"{column_letter(max(len(cols) - 1, 0))}{n + 1}"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        + (f"<cols>{widths}</cols>" if cols else "")
        + f'<sheetData><row r="1">{header}</row>'
        + "".join(lines)
        + "</sheetData>"
        + (f'<autoFilter ref="A1:{last}"/>' if cols else "")
        + "</worksheet>"
    )


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _attr(value: str) -> str:
    """Text for an XML attribute value in double quotes."""
    return escape(value, {'"': "&quot;"})


def _width(values: pd.Series, name: str) -> int:
    sample = max((len(str(v)) for v in values.head(200).tolist()), default=0)
    return min(max(len(name), sample) + 2, 60)


def _styles_xml(formats: list[str]) -> str:
    num = "".join(f'<numFmt numFmtId="{164 + k}" formatCode="{_attr(f)}"/>' for k, f in enumerate(formats))
    # Style 0: plain; 1: the bold header; 2...: one per number format.
    xfs = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    xfs += '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" applyFont="1"/>'
    xfs += "".join(
        f'<xf numFmtId="{164 + k}" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
        for k in range(len(formats))
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_NS}">'
        + (f'<numFmts count="{len(formats)}">{num}</numFmts>' if formats else "")
        + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{2 + len(formats)}">{xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], fmt_of: Callable[[str], str | None]) -> None:
    """Write ``sheets`` (name -> table, at most 1,048,575 rows each) as one ``.xlsx`` file at ``path``.

    ``fmt_of(column)`` gives a column's number format (e.g. ``"#,##0.0000"``) or None.
    """
    formats = sorted({f for df in sheets.values() for c in df.columns if (f := fmt_of(str(c)))})
    styles = {f: 2 + k for k, f in enumerate(formats)}
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for k in range(len(names))
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        )
        z.writestr(
            "_rels/.rels",
            head + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        sheet_list = "".join(
            f'<sheet name="{_attr(n)}" sheetId="{k + 1}" r:id="rId{k + 1}"/>' for k, n in enumerate(names)
        )
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{k}" hidden="1">'
            f"'{escape(n.replace(chr(39), chr(39) * 2))}'!$A$1:${column_letter(max(len(df.columns) - 1, 0))}"
            f"${len(df) + 1}</definedName>"
            for k, (n, df) in enumerate(sheets.items())
            if len(df.columns)
        )
        z.writestr(
            "xl/workbook.xml",
            head
            + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheet_list}</sheets>'
            + (f"<definedNames>{filters}</definedNames>" if filters else "")
            + "</workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{k + 1}" Type="{_REL}/worksheet" Target="worksheets/sheet{k + 1}.xml"/>'
            for k in range(len(names))
        )
        rels += f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", head + f'<Relationships xmlns="{_PKG}">{rels}</Relationships>')
        z.writestr("xl/styles.xml", _styles_xml(formats))
        for k, df in enumerate(sheets.values()):
            z.writestr(f"xl/worksheets/sheet{k + 1}.xml", _sheet_xml(df, styles, fmt_of))
