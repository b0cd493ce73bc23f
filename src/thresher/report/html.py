"""Render a report document as ONE self-contained HTML file.

Everything is inline: the CSS, the JavaScript (plain, no library) and the data as JSON. A
Content-Security-Policy that allows only those exact inline blocks (by hash) and nothing from
anywhere else makes the page provably offline: the browser refuses any network request.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib.resources import files

# concatenated into one <script>, in this order: the chart kit, the numbers, the charts, the page
SCRIPTS = ("charts.js", "numbers.js", "figures.js", "report.js")


def _asset(name: str) -> str:
    return (files("thresher.report") / "assets" / name).read_text(encoding="utf-8")


def _json_for_script(document: dict) -> str:
    """JSON safe inside <script>: no '</script>', no HTML-significant characters, strict numbers."""
    text = json.dumps(document, allow_nan=False, separators=(",", ":"), ensure_ascii=False, default=str)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render(document: dict) -> str:
    """The HTML page for a report document (see :func:`thresher.report.build_report`)."""
    css = _asset("report.css")
    script = "\n".join(_asset(name) for name in SCRIPTS)
    csp = (f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(css)}; "
           "base-uri 'none'; form-action 'none'")
    title = html.escape(f"{document.get('title', 'report')} \u00b7 thresher report")
    version = html.escape(str(document.get("thresher_version", "")))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="thresher {version}">\n'
        f"<title>{title}</title>\n"
        f"<style>{css}</style>\n"
        "</head>\n<body>\n"
        '<div id="app"><noscript>This report draws its charts with JavaScript; enable it to see them.'
        "</noscript></div>\n"
        f'<script type="application/json" id="thresher-data">{_json_for_script(document)}</script>\n'
        f"<script>{script}</script>\n"
        "</body>\n</html>\n"
    )
