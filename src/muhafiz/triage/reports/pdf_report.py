"""A PDF report for the court bundle, drawn with fpdf2: text and tables only, never an image."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from muhafiz.triage.reports.data import ReportData
from muhafiz.triage.reports.sections import Section, sections

# A Unicode font shows Urdu and other non-Latin file names; without one, text falls back to Latin-1.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
    Path("C:/Windows/Fonts/arial.ttf"),
)

# Relative column widths per section, by number of columns.
WIDTHS = {
    2: (1, 3), 3: (3, 1, 1), 4: (3, 1, 1, 4), 5: (4, 1, 1, 2, 2),
    8: (3, 3, 1.2, 1.2, 2, 1, 1, 3),
    10: (3, 3, 1.2, 1, 0.8, 0.8, 0.8, 1, 2.5, 3),
    11: (3, 1.2, 2.5, 1.2, 1, 0.8, 0.8, 0.8, 1, 2.5, 3),
}  # fmt: skip


class _Report(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(size=7)
        self.cell(0, 5, f"{self.footer_text} — page {self.page_no()}/{{nb}}", align="C")


def _font(pdf: _Report) -> tuple[str, bool]:
    for path in FONT_CANDIDATES:
        if path.is_file():
            pdf.add_font("Body", "", str(path))
            return "Body", True
    return "helvetica", False


def write(data: ReportData, out: Path) -> None:
    pdf = _Report(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    family, unicode_ok = _font(pdf)
    pdf.footer_text = _clean(
        f"Muhafiz scan report, case {data.meta.get('case_ref') or '-'}, scan file SHA-256 "
        f"{data.scan_sha256}",
        unicode_ok,
    )
    pdf.add_page()
    pdf.set_font(family, size=16)
    pdf.multi_cell(
        0,
        9,
        _clean(
            f"Muhafiz scan report: {data.meta.get('case_ref') or data.scan_path.name}", unicode_ok
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for section in sections(data):
        _section(pdf, family, section, unicode_ok)
    pdf.output(str(out))


def _section(pdf: _Report, family: str, section: Section, unicode_ok: bool) -> None:
    pdf.ln(3)
    pdf.set_font(family, size=13)
    pdf.multi_cell(0, 7, _clean(section.title, unicode_ok), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=8)
    pdf.multi_cell(0, 4.5, _clean(section.intro, unicode_ok), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    if not section.rows:
        pdf.multi_cell(0, 5, "None.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(family, size=6.5)
    widths = _widths(len(section.header))
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        headings_style=FontFace(emphasis=None, fill_color=(230, 230, 230)),
        line_height=3.2,
        first_row_as_headings=True,
    ) as table:
        table.row([_clean(h, unicode_ok) for h in section.header])
        for row in section.rows:
            table.row([_clean(_breakable(cell), unicode_ok) for cell in row])
    if section.note:
        pdf.set_font(family, size=8)
        pdf.multi_cell(0, 4.5, _clean(section.note, unicode_ok), new_x="LMARGIN", new_y="NEXT")


def _widths(columns: int) -> tuple[float, ...]:
    if columns in WIDTHS:
        return tuple(float(w) for w in WIDTHS[columns])
    return tuple([4.0] + [1.0] * (columns - 3) + [3.0, 3.0])


def _breakable(text: str) -> str:
    # Hashes and paths have no spaces; offer line breaks so table cells can wrap them.
    if len(text) <= 40 or " " in text:
        return text
    return "\u200b".join(text[i : i + 16] for i in range(0, len(text), 16))


def _clean(text: str, unicode_ok: bool) -> str:
    if unicode_ok:
        return text
    return (
        text.replace("\u200b", " ").replace("—", "-").encode("latin-1", "replace").decode("latin-1")
    )
