"""A self-contained HTML report: text and tables only, no image, no script, no external link."""

from __future__ import annotations

from html import escape
from pathlib import Path

from muhafiz.triage.reports.data import ReportData
from muhafiz.triage.reports.sections import sections

# Nothing may load: no image, script, font or link can leave or enter the page.
CSP = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; margin-bottom: 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #999; padding: 0.2em 0.5em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; hyphens: none; }
td { max-width: 40em; }
#examiner-s-declaration td { height: 2.2em; min-width: 18em; }
#examiner-s-declaration thead { display: none; }
@media print { body { margin: 1cm; } section { break-inside: auto; } tr { break-inside: avoid; } }
th { background: #eee; }
.note { color: #555; font-style: italic; }
.alarm { border: 3px solid #b00; color: #b00; font-weight: bold; padding: 0.5em; }
"""


def render(data: ReportData) -> str:
    title = f"Muhafiz scan report — {data.meta.get('case_ref') or data.scan_path.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    for source in data.sources:
        if source.get("verification") == "mismatch":
            parts.append(
                f'<p class="alarm">Source {source["source_id"]} does not match its acquisition '
                "hash: the disk image read in this scan differs from what was acquired. It is "
                "damaged or was altered; see 'Disk images: acquisition hashes'.</p>"
            )
    for image in data.nested_images:
        if image.get("verification") == "mismatch":
            parts.append(
                f'<p class="alarm">The disk image {escape(str(image["path"]))} (source '
                f"{image['source_id']}) does not match its acquisition hash: the image read in "
                "this scan differs from what was acquired. It is damaged or was altered; see "
                "'Disk images: acquisition hashes'.</p>"
            )
    for section in sections(data):
        anchor = section.title.lower().replace(" ", "-").replace("'", "-")
        parts.append(f'<section id="{escape(anchor)}"><h2>{escape(section.title)}</h2>')
        parts.append(f"<p>{escape(section.intro)}</p>")
        if section.rows:
            parts.append("<table><thead><tr>")
            parts.extend(f"<th>{escape(h)}</th>" for h in section.header)
            parts.append("</tr></thead><tbody>")
            for row in section.rows:
                parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
            parts.append("</tbody></table>")
        else:
            parts.append('<p class="note">None.</p>')
        if section.note:
            parts.append(f'<p class="note">{escape(section.note)}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(data: ReportData, out: Path) -> None:
    out.write_text(render(data), encoding="utf-8")
