"""Render the review as Markdown (for pull requests and tickets) or one self-contained HTML page.

Both come from the same view (orgguard.review.view) so they can never disagree. HTML uses jinja2
autoescape; Markdown escapes the characters that would break tables or inject HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from orgguard.manifest import Manifest
from orgguard.review.approval import GateResult
from orgguard.review.diff import ManifestDiff
from orgguard.review.plain import account
from orgguard.review.view import build_view

Format = Literal["markdown", "html"]

MODE_WORDS = {
    "automatic": "Automatic: AWS Config runs the fix for every non-compliant resource, existing ones included, "
    "as soon as this is deployed",
    "manual": "Manual (approval-only): findings are reported; a person starts the fix from AWS Config",
    "off": "Off: detect and report only, nothing is changed",
}


def md(value: Any) -> str:
    """Plain text safe in Markdown text and table cells: no HTML, no broken columns."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]|":
        text = text.replace(char, "\\" + char)
    return text.replace("\r", "").replace("\n", "<br>")


def code(value: Any) -> str:
    """An inline Markdown code span (ARNs, actions, hashes) that survives table cells."""
    text = str(value).replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _environment(fmt: Format) -> Environment:
    env = Environment(
        loader=PackageLoader("orgguard.review", "templates"),
        autoescape=select_autoescape(["html.j2"]) if fmt == "html" else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, code=code, account=account)
    env.globals.update(MODE_WORDS=MODE_WORDS)
    return env


def render_report(
    manifest: Manifest,
    fmt: Format = "markdown",
    diff: ManifestDiff | None = None,
    gate: GateResult | None = None,
    today: dt.date | None = None,
) -> str:
    """The whole review as one string in ``fmt``."""
    view = build_view(manifest, diff=diff, gate=gate, today=today)
    name = "report.html.j2" if fmt == "html" else "report.md.j2"
    return _environment(fmt).get_template(name).render(v=view, m=manifest)
