"""The client report: executed notebooks -> one self-contained HTML file and a PDF.

The notebooks of a run (``<run_dir>/notebooks/NN_name.ipynb``, executed by Papermill) are merged
into one notebook in memory. Only what cxaudit produced for the client survives the merge:

* code-cell outputs of MIME type ``text/html`` (already escaped HTML) and ``image/png`` (figures);
* nothing else: markdown cells (analyst narration), raw cells, code, prompts, ``stream`` and
  ``error`` outputs and ``text/plain``-only outputs are dropped, and so are whole cells tagged
  ``parameters``, ``injected-parameters`` or ``analyst``.

The merged notebook is rendered by nbconvert's :class:`~nbconvert.exporters.HTMLExporter` with the
template ``templates/cxreport`` (it extends ``lab`` but keeps none of its scripts, links or CSS).
Before the notebooks' outputs the template places a cover page, a table of contents built from the
section headings the notebooks emit (``<h1 class="cx-section" id=...>`` and
``<h2 class="cx-sub" id=...>``) and a one-page executive summary built here from the run's findings and,
when the TO-BE notebook has run, its top recommendations and targets (``<run_dir>/tobe.json``, see
:func:`cxaudit.recommend.save_tobe`). After the notebooks' outputs comes a methodology appendix
(formulas, bases, the data-quality summary and the TO-BE assumptions), and the consultant's
commentary (``commentary.yaml`` / ``.md`` in the client folder) is placed at the top of each section
it names. The PDF is printed by WeasyPrint from the very same HTML string.

Editions (``edition=``): ``"full"`` (``report.html`` / ``report.pdf``) keeps every section;
``"brief"`` (``report-brief.html`` / ``.pdf``), the executives' edition, keeps the cover, the
executive summary, the sections of :data:`BRIEF_SECTIONS` (the TO-BE section: recommendations,
targets, TO-BE journey, roadmap, measurement plan; without the sub-sections of
:data:`BRIEF_OMIT_SUBSECTIONS`, the list of all findings) and the methodology appendix, and says on the cover
and under the executive summary that it is the brief edition and which sections the full report adds.
Both come from the same merged notebook and the same findings, so every figure is the same, with its
n and 95% interval. Which output belongs to which section (:func:`section_of_outputs`): the section
of the last ``<h1 class="cx-section" id="sec-<key>">`` heading seen in report order, the output holding
the heading included (likewise the sub-section of the last ``<h2 class="cx-sub">`` since it); outputs
before the first heading belong to no section and are left out of the brief edition. The rule rests on
the headings every notebook emits through :func:`cxaudit.show.section`, not on notebook file names,
so a section split across notebooks or cells, and the consultant's commentary placed under a heading,
go with their section.

The HTML references no URL at all: figures and the logo are inlined as ``data:`` URIs, and the
PDF renderer is only allowed to fetch ``data:`` URLs.

Examples
--------
>>> paths = build_report(run_dir, client_name="Acme Bank", lang="en")  # doctest: +SKIP
>>> sorted(paths)  # doctest: +SKIP
['html', 'pdf']
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import nh3
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from .config import Branding
from .figdisplay import check_figures
from .findings import Finding, format_value, read_findings
from .i18n import LANGUAGES, fmt_date, fmt_int, fmt_num, fmt_pct, t
from .paths import TEMPLATES_DIR

__all__ = [
    "DROP_TAGS",
    "FORMATS",
    "LONG_TABLE_ROWS",
    "WIDE_TABLE_COLUMNS",
    "TOP_FINDINGS",
    "TOP_RECOMMENDATIONS",
    "APPENDIX_ID",
    "AppendixMethod",
    "BRIEF_OMIT_SUBSECTIONS",
    "BRIEF_SECTIONS",
    "EDITIONS",
    "REPORT_STEMS",
    "ClientOutputPreprocessor",
    "appendix_html",
    "build_report",
    "commentary_html",
    "methodology_data",
    "merge_notebooks",
    "sanitize_output_html",
    "section_of_outputs",
    "select_sections",
    "toc_entries",
]

log = logging.getLogger(__name__)

#: Cells carrying one of these tags never reach the client.
DROP_TAGS: tuple[str, ...] = ("parameters", "injected-parameters", "analyst")
#: Output formats :func:`build_report` can write.
FORMATS: tuple[str, ...] = ("html", "pdf")
#: How many findings the executive summary lists (it fits one page with the recommendations).
TOP_FINDINGS = 5
#: How many recommendations the executive summary lists.
TOP_RECOMMENDATIONS = 5
#: Report editions :func:`build_report` can render.
EDITIONS: tuple[str, ...] = ("full", "brief")
#: File name (without suffix) of each edition in the run directory.
REPORT_STEMS: dict[str, str] = {"full": "report", "brief": "report-brief"}
#: Sections (``sec-<key>`` of the notebooks' headings) the brief edition keeps, besides the cover, the
#: executive summary and the methodology appendix, which every edition has.
#: The brief is the executive summary and the TO-BE essentials (issue 14: at most 8 pages); the journey
#: maps (AS-IS and TO-BE of all customers) are in the full report's body, the persona maps in its appendix.
BRIEF_SECTIONS: tuple[str, ...] = ("to_be",)
#: Sub-sections of those the brief edition leaves out, by the catalog key of their heading (matched on
#: the heading's text in the report language): the list of every finding is evidence, and the
#: executive summary already lists the top ones; the recommendation cards, the touchpoint-by-touchpoint
#: TO-BE journey, the measurement plan and the reconsidered items are the full report's detail -- the
#: brief keeps the first actions (summary), the impact × effort map, the targets, the business case
#: (every recommendation with its value and cost) and the roadmap, in at most 8 pages (issue 14).
BRIEF_OMIT_SUBSECTIONS: tuple[str, ...] = ("tobe.all_findings", "tobe.recommendations", "tobe.journey",
                                           "tobe.plan", "bc.reconsidered")
#: MIME types of cell outputs that belong in the report, in order of preference (figures are SVG since
#: :func:`cxaudit.plots.set_style`; PNG stays for runs made before).
KEEP_MIME: tuple[str, ...] = ("text/html", "image/svg+xml", "image/png")
#: Sections moved behind the methodology appendix in every edition: they qualify the data, they are
#: not findings, and the client reads the findings first.
APPENDIX_SECTIONS: tuple[str, ...] = ("data_quality",)
#: Sub-sections dropped from every edition, by catalog key of their heading: the list of all findings
#: is rebuilt as a compact appendix table (:func:`findings_table_html`).
OMIT_SUBSECTIONS: tuple[str, ...] = ("tobe.all_findings",)
#: Sub-sections the full edition moves from the body to the appendix "Supporting analyses", by catalog
#: key of their heading (a ``{segment}`` placeholder matches any segment): month-by-month detail, model
#: output, scale reliability, proposed themes and other evidence that supports a finding without being
#: one. The body keeps the findings and the tables and charts that show them. Keys a run does not
#: have are ignored, so sections added later are unaffected.
SUPPORTING_SUBSECTIONS: tuple[str, ...] = (
    "metrics.trends", "metrics.customers_title", "metrics.reliability_title",
    "journey.channels", "journey.omnichannel",
    "churn.trend", "churn.reasons_by", "churn.drivers", "churn.touchpoints", "churn.survival",
    "churn.assumptions", "churn.ltv", "churn.retention",
    "voc.topics_heading", "voc.tickets_examples_heading", "voc.tickets_themes_heading", "voc.tickets_repeat_heading",
    "employees.reliability_heading", "employees.drivers_heading", "employees.corr_heading",
    "employees.enps_role_heading",
    "journey.heatmap_channel", "voc.by_channel_heading", "voc.tickets_volume_heading", "voc.tickets_csat_heading",
    "personas.model_heading", "personas.channel_use_heading", "personas.switching_heading",
    "personas.consistency_heading", "processes.variants_heading", "processes.handovers_heading",
    "processes.conformance_heading",
    # one card per recommendation: the business case lists every one with value and cost in the body; the
    # touchpoint-by-touchpoint TO-BE journey, the measurement plan and the items not on the plan are detail
    "tobe.recommendations", "tobe.journey", "tobe.plan", "bc.reconsidered",
    # the motivation factor-by-department profile (the body keeps the index by department and the findings),
    # ticket response / resolution times by channel (the body keeps first responses within the expected
    # time), the answers each survey wave needs (a sample-size table): detail, so that the body stays
    # within 35 pages in ru and pl too (issue 14)
    "employees.motivation_heading", "voc.tickets_times_heading", "survey.h_sizes",
)
SUPPORTING_ID = "sec-supporting"

TEMPLATE_NAME = "cxreport"
EXEC_SUMMARY_ID = "cx-exec-summary"
APPENDIX_ID = "sec-appendix"

_LOGO_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


# --- merging and filtering -----------------------------------------------------------------------

# Notebook HTML is cleaned by Ammonia (https://github.com/rust-ammonia/ammonia) through its Python
# binding nh3 (https://nh3.readthedocs.io): a real HTML5 parser (html5ever) and an allowlist, so what
# survives is exactly what is listed here. The lists keep everything cxaudit's own outputs use
# (``cxaudit.show``, ``cxaudit.recommend.recommendations_html``) plus plain text markup.
_ALLOWED_TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "li", "mark", "ol", "p", "pre", "q", "s", "section", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
# Removed together with their content (the default keeps the text of a removed element). ``style``
# elements are global to the report and their CSS can fetch (``@import``, ``url()``, ``image-set()``,
# CSS escapes) -- cxaudit's client-facing outputs never use one.
_CLEAN_CONTENT_TAGS = {
    "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noembed", "noframes", "xmp", "textarea", "select", "title", "svg", "math",
}
_ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"border"},  # pandas' DataFrame repr
    "th": {"colspan", "rowspan", "headers", "scope", "abbr"},
    "td": {"colspan", "rowspan", "headers"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
_ALLOWED_ATTRIBUTE_PREFIXES = {"data-", "aria-"}  # e.g. data-rule / data-rank of the recommendations
# nh3's first cut for ``href``/``src``; _attribute_filter narrows it: ``href`` keeps ``mailto:``, ``tel:``,
# fragments (``#sec-...``) and relative paths, ``src`` only ``data:image/...``.
_URL_SCHEMES = {"data", "mailto", "tel"}
# ``style`` attributes keep only declarations of these properties (none takes a URL) whose value is
# made of letters, digits, spaces and ``# . , % + -`` -- no function (``url()``, ``image-set()``,
# ``expression()``), no quote, no CSS escape or comment. Done here rather than by nh3's
# ``filter_style_properties``, which only exists from nh3 0.3.
_STYLE_PROPERTIES = {
    "color", "background-color", "font-style", "font-weight", "font-size", "font-variant-numeric",
    "text-align", "text-decoration", "text-transform", "vertical-align", "white-space",
    "width", "min-width", "max-width", "height",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left",
    "border-color", "border-style", "border-width", "border-collapse",
}
_STYLE_VALUE = re.compile(r"[#A-Za-z0-9 \t\n.,%+-]+")
_URL_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_DATA_IMAGE = re.compile(r"data:image/[a-zA-Z0-9.+-]+[;,]", re.IGNORECASE)
_URL_JUNK = "".join(map(chr, range(0x21)))  # what browsers strip around a URL (C0 controls, space)


def _is_local_link(url: str) -> bool:
    """A fragment, ``mailto:``/``tel:`` or a relative path (not starting with ``/`` or ``\\``: no
    ``//host``, ``/\\host``, ``\\\\host``)."""
    v = re.sub(r"[\t\n\r]", "", url.strip(_URL_JUNK))  # browsers drop tabs and newlines anywhere in a URL
    if v.startswith(("/", "\\")):
        return False
    m = _URL_SCHEME.match(v)
    return m is None or m.group(1).lower() in ("mailto", "tel")


def _clean_style(value: str) -> str | None:
    """The declarations of a ``style`` attribute that :data:`_STYLE_PROPERTIES` and
    :data:`_STYLE_VALUE` allow, or None when none is left."""
    kept = []
    for declaration in value.split(";"):
        prop, colon, val = declaration.partition(":")
        prop, val = prop.strip().lower(), val.strip()
        if colon and prop in _STYLE_PROPERTIES and _STYLE_VALUE.fullmatch(val):
            kept.append(f"{prop}: {val}")
    return "; ".join(kept) or None


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """nh3's per-attribute hook, after its scheme check: keep ``value`` or drop the attribute (None)."""
    if attr == "href":
        return value if _is_local_link(value) else None
    if attr == "src":
        return value if _DATA_IMAGE.match(value.strip(_URL_JUNK)) else None
    if attr == "style":
        return _clean_style(value)
    return value


_NH3_OPTIONS: dict[str, Any] = {
    "tags": _ALLOWED_TAGS,
    "clean_content_tags": _CLEAN_CONTENT_TAGS,
    "attributes": _ALLOWED_ATTRIBUTES,
    "generic_attribute_prefixes": _ALLOWED_ATTRIBUTE_PREFIXES,
    "attribute_filter": _attribute_filter,
    "url_schemes": _URL_SCHEMES,
    "strip_comments": True,
    "link_rel": None,  # leave <a> as written (no rel="noopener noreferrer" added)
}

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Shape(HTMLParser):
    """What HTML shows, for telling a real change from a re-serialisation.

    Tags with their attributes (values unescaped, ``style`` without whitespace) and whitespace-
    normalised text, in order. Not compared: quoting, character references (``&#x27;`` vs ``'``),
    the ``<tbody>`` the HTML parser adds to every table and void elements' end tags.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, ...]] = []
        self._text: list[str] = []

    def _flush(self) -> None:
        if text := " ".join("".join(self._text).split()):
            self.items.append(("text", text))
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "tbody":
            self._flush()
            norm = [(k, re.sub(r"\s+", "", v or "").rstrip(";") if k == "style" else v or "") for k, v in attrs]
            self.items.append(("start", tag, *sorted(f"{k}={v}" for k, v in norm)))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag != "tbody" and tag not in _VOID:
            self._flush()
            self.items.append(("end", tag))

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def _other(self, data: str) -> None:
        self._flush()
        self.items.append(("other", data))

    def handle_comment(self, data: str) -> None:
        self._other(data)

    def handle_decl(self, decl: str) -> None:
        self._other(decl)

    def handle_pi(self, data: str) -> None:
        self._other(data)

    def unknown_decl(self, data: str) -> None:
        self._other(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _shape(text: str) -> list[tuple[str, ...]]:
    parser = _Shape()
    parser.feed(text)
    parser.close()
    return parser.items


def sanitize_output_html(text: str) -> tuple[str, int]:
    """Remove from notebook HTML whatever could run code or fetch from outside the file.

    The HTML is parsed and re-serialised by Ammonia, a maintained allowlist HTML sanitiser written in
    Rust, through its Python binding nh3 [1]_ [2]_, so tricks aimed at regular expressions (nested or
    split tags, ``<svg><script>``, entity-encoded or whitespace-split ``javascript:`` URLs, unquoted
    or ``/``-separated attributes, comments and CDATA) are handled as a browser would parse them.
    Kept: the elements and attributes cxaudit's own outputs use (``cxaudit.show`` headings, notes and
    tables, the recommendation cards of ``cxaudit.recommend``: classes, ids, ``data-*``) and plain text
    markup. Removed: every other element (``script``, ``style``, ``svg``, ``math``, ``iframe``,
    ``object``, ``embed``, ``template``, ``noscript``... with their content; ``link``, ``base``,
    ``meta``, forms...), ``on*`` and all other attributes not listed, comments, links other than
    fragments (``#sec-...``), relative paths (not ``//host``), ``mailto:`` and ``tel:`` (so no
    ``http(s):``, ``javascript:``, ``vbscript:``, ``file:``, ``data:`` links), images other than
    ``data:image/...`` and ``style`` declarations other than a few properties with plain values
    (no ``url()`` or any other CSS function).

    Parameters
    ----------
    text : str
        HTML of one notebook output.

    Returns
    -------
    (str, int)
        The cleaned HTML and 1 if anything was removed, else 0. The cleaned HTML is always Ammonia's
        serialisation, so it may differ from ``text`` in form when nothing was removed: attributes
        in double quotes, ``'`` and ``"`` for ``&#x27;`` and ``&quot;`` in text, ``<br>`` for
        ``<br/>``, ``<tbody>`` added to a table without one. Such differences do not count as a
        change.

    References
    ----------
    .. [1] Ammonia, "Repair and secure untrusted HTML", https://github.com/rust-ammonia/ammonia
    .. [2] nh3, "Python binding to Ammonia HTML sanitizer Rust crate", https://nh3.readthedocs.io

    Examples
    --------
    >>> sanitize_output_html('<p class="cx-note"><a href="#sec-x">x</a></p>')
    ('<p class="cx-note"><a href="#sec-x">x</a></p>', 0)
    >>> sanitize_output_html('<img src=x onerror=alert(1)//><a href="jav&#x09;ascript:alert(1)">y</a>')
    ('<img><a>y</a>', 1)
    """
    # Ammonia writes U+00A0 (cxaudit's thousands separator and "n = ") as &nbsp;: put the character
    # back, so cxaudit's own HTML comes out as it went in. Exact in text and attribute values alike;
    # a literal "&nbsp;" in the input comes out as "&amp;nbsp;", which does not match.
    cleaned = nh3.clean(text, **_NH3_OPTIONS).replace("&nbsp;", "\u00a0")
    return cleaned, int(_shape(cleaned) != _shape(text))


_NOTE_ONLY = re.compile(r'\s*<p class="cx-note">[^<]*</p>\s*')
# What an SVG figure may not hold: script, foreign HTML, event handlers, links other than fragments or
# data: images, entity declarations (entity expansion), external stylesheets.
_SVG_UNSAFE = re.compile(
    r"<\s*(script|foreignObject|iframe|object|embed|handler)\b|\son[a-z]+\s*=|<!ENTITY|@import|url\(\s*['\"]?(?!#|data:)"
    r"|(?:xlink:)?href\s*=\s*['\"](?!#|data:image/)",
    re.IGNORECASE)
_SVG_TEXT = re.compile(r"<text\b[^>]*?font(?:-size)?:[^;\"]*?([\d.]+)px[^>]*>(.*?)</text>",
                       re.IGNORECASE | re.DOTALL)


def svg_figure(svg: str) -> tuple[str, str] | None:
    """A notebook's SVG figure as ``(base64 of the SVG, alt text)``, or None when it is not safe to show.

    The SVG goes into the report as an ``<img src="data:image/svg+xml;base64,...">``: browsers and
    WeasyPrint neither run script nor fetch resources for an SVG image, and the PDF renderer may fetch
    ``data:`` URLs only. On top of that, an SVG holding script, ``foreignObject``, event-handler
    attributes, entity declarations or a link to anything but a fragment or a ``data:image`` is refused
    (matplotlib writes none of these). The alt text is the figure's title: the text set in the largest
    type (matplotlib keeps text as text with ``svg.fonttype = "none"``), else the catalog's "Chart".
    """
    if _SVG_UNSAFE.search(svg) or "<svg" not in svg:
        return None
    sized: list[tuple[float, str]] = []
    for m in _SVG_TEXT.finditer(svg):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(2))).split())
        if text:
            sized.append((float(m.group(1)), text))
    alt = ""
    if sized:
        biggest = max(size for size, _ in sized)
        alt = " · ".join(dict.fromkeys(text for size, text in sized if size == biggest))
    return base64.b64encode(svg.encode("utf-8")).decode("ascii"), alt
_TR = re.compile(r"<tr\b(.*?)(?=<tr\b|</table|$)", re.IGNORECASE | re.DOTALL)
_CELL = re.compile(r"<t[dh]\b", re.IGNORECASE)
#: A table with more rows than this may break across pages (shorter ones are kept on one page).
LONG_TABLE_ROWS = 15
#: A table with more columns than this is set in a smaller font.
WIDE_TABLE_COLUMNS = 7


_TD = re.compile(r"(<td\b[^>]*>)(.*?)(</td>)", re.IGNORECASE | re.DOTALL)
#: A no-break space before a currency code (after a number or a scale word: "1 234 RUB", "573 млн RUB").
_AMOUNT_UNIT = re.compile(r"(?<=\S)\u00a0([A-Z]{3}|zł|₽|€)(?!\w)")


def _amount_breaks(text: str) -> str:
    """In table cells an amount may wrap between its number and its currency code, never inside the code:
    a narrow column of a wide table breaks long words anywhere, which split "RUB" into "RU B" (issue 14).
    The code is kept whole (``cx-nw``) and the space before it becomes an ordinary one."""
    def cell(m: re.Match[str]) -> str:
        return m.group(1) + _AMOUNT_UNIT.sub(r' <span class="cx-nw">\1</span>', m.group(2)) + m.group(3)

    return _TD.sub(cell, text) if "\u00a0" in text else text


def _layout_classes(text: str) -> str:
    """``cx-long`` / ``cx-wide`` for HTML holding a table too long to keep on one page / too wide."""
    rows = _TR.findall(text)
    classes = []
    if len(rows) > LONG_TABLE_ROWS:
        classes.append("cx-long")
    if rows and max(len(_CELL.findall(r)) for r in rows) > WIDE_TABLE_COLUMNS:
        classes.append("cx-wide")
    return " ".join(classes)


_HEADING_ONLY = re.compile(r'\s*<h([23]) class="cx-sub"[^>]*>[^<]*</h\1>\s*')
_SHORT_TEXT = re.compile(r'\s*<p class="cx-(?:text|note)">[^<]{0,400}</p>\s*')


def _add_class(node: Any, key: str, cls: str) -> None:
    meta = node.metadata.setdefault("cxaudit", {})
    meta[key] = " ".join(filter(None, [meta.get(key, ""), cls]))


def _mark_section_starts(cells: Sequence[Any]) -> None:
    """Layout classes for print: a cell that opens a section (``cx-section-start``: its heading,
    introduction and takeaway keep with what follows) and, when the section's next cell is a landscape
    page (the journey maps), ``cx-opens-landscape`` on it and ``cx-first-landscape`` on that page, so the
    section's opening is printed on the landscape page instead of alone on a portrait one (issue 14).
    A sub-section heading alone in its output and a short introduction right under it get
    ``cx-keep-with-next`` (no heading and one line at the foot of a page). Classes rather than ``:has()``
    selectors, which cost the PDF renderer a search of every cell."""
    for cell in cells:  # a heading alone in its output, and a short introduction after it, keep with what follows
        after_heading = False
        for out in cell.outputs:
            value = out.data.get("text/html", "")
            if _HEADING_ONLY.fullmatch(value) or (after_heading and _SHORT_TEXT.fullmatch(value)):
                _add_class(out, "classes", "cx-keep-with-next")
                after_heading = bool(_HEADING_ONLY.fullmatch(value))
            else:
                after_heading = False
    for i, cell in enumerate(cells):
        html_out = [o.data["text/html"] for o in cell.outputs if "text/html" in o.data]
        if not any('<h1 class="cx-section"' in h for h in html_out):
            continue
        _add_class(cell, "cell_classes", "cx-section-start")
        nxt = cells[i + 1].outputs[0] if i + 1 < len(cells) and cells[i + 1].outputs else None
        if nxt is not None and nxt.data.get("text/html", "").lstrip().startswith('<div class="cx-landscape"'):
            _add_class(cell, "cell_classes", "cx-opens-landscape")
            _add_class(nxt, "classes", "cx-first-landscape")


class ClientOutputPreprocessor(Preprocessor):
    """Keep only client-facing content: ``text/html`` and ``image/png`` outputs of code cells.

    Markdown, raw and unknown cells are dropped; in code cells the source, the execution count and
    the metadata are cleared, ``stream`` and ``error`` outputs are dropped, each remaining output is
    reduced to its first MIME type of :data:`KEEP_MIME` (an output with none of them is dropped) and
    a cell left without outputs is dropped. HTML outputs pass through :func:`sanitize_output_html`;
    one holding a long or wide table gets layout classes in ``metadata["cxaudit"]["classes"]``.
    """

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        kept = []
        changed = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            outputs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") not in ("display_data", "execute_result"):
                    continue
                data = out.get("data", {})
                mime = next((m for m in KEEP_MIME if m in data), None)
                if mime is None:
                    continue
                value = data[mime]
                if isinstance(value, list):  # nbformat allows multi-line strings as lists
                    value = "".join(value)
                metadata: dict[str, Any] = {}
                if mime == "text/html":
                    value, n = sanitize_output_html(value)
                    changed += n
                    value = _amount_breaks(value)
                elif mime == "image/svg+xml":
                    fig = svg_figure(value)
                    if fig is None:
                        changed += 1
                        continue
                    value, alt = fig
                    metadata["cxaudit"] = {"alt": alt}
                else:
                    value = value.replace("\n", "")
                size = {k: v for k, v in (out.get("metadata", {}).get(mime, {}) or {}).items()
                        if k in ("width", "height")}
                if size:
                    metadata[mime] = size
                if mime == "text/html" and (classes := _layout_classes(value)):
                    metadata["cxaudit"] = {"classes": classes}
                elif mime == "text/html" and _NOTE_ONLY.fullmatch(value):
                    # a lone note belongs to what precedes it: never alone at the top of a page
                    metadata["cxaudit"] = {"classes": "cx-keep-with-previous"}
                outputs.append(nbformat.v4.new_output("display_data", data={mime: value}, metadata=metadata))
            if outputs:
                cell.source = ""
                cell.execution_count = None
                cell.metadata = nbformat.NotebookNode()
                if all(_NOTE_ONLY.fullmatch(o.data.get("text/html", "") or "") for o in outputs):
                    # a lone note belongs to what precedes it: never alone at the top of a page
                    cell.metadata["cxaudit"] = {"cell_classes": "cx-keep-with-previous"}
                cell.outputs = outputs
                kept.append(cell)
        _mark_section_starts(kept)
        if changed:
            log.warning("report: removed scripts, styles, external references or other markup outside the "
                        "allowlist from %d notebook output(s)", changed)
        nb.cells = kept
        return nb, resources


def merge_notebooks(paths: Sequence[Path], *, drop_tags: Sequence[str] = DROP_TAGS) -> nbformat.NotebookNode:
    """Merge executed notebooks into one notebook that holds only client-facing outputs.

    Parameters
    ----------
    paths : sequence of Path
        Executed notebooks, in report order.
    drop_tags : sequence of str
        Cells carrying any of these tags are removed entirely (nbconvert's ``TagRemovePreprocessor``).

    Returns
    -------
    nbformat.NotebookNode
        A v4 notebook whose cells are code cells without source, each with ``text/html`` and/or
        ``image/png`` ``display_data`` outputs only (see :class:`ClientOutputPreprocessor`).
    """
    merged = nbformat.v4.new_notebook()
    tag_remover = TagRemovePreprocessor(remove_cell_tags=set(drop_tags), enabled=True)
    client_only = ClientOutputPreprocessor(enabled=True)
    for i, path in enumerate(paths):
        nb = nbformat.read(str(path), as_version=4)
        if i == 0:
            for key in ("kernelspec", "language_info"):
                if key in nb.metadata:
                    merged.metadata[key] = nb.metadata[key]
        nb, _ = tag_remover.preprocess(nb, {})
        check_figures(nb, Path(path).name)  # a chart that lost its image fails the report
        nb, _ = client_only.preprocess(nb, {})
        for j, cell in enumerate(nb.cells):
            cell.id = f"nb{i:02d}-{j:04d}"
            merged.cells.append(cell)
    return merged


# --- table of contents ----------------------------------------------------------------------------


class _HeadingParser(HTMLParser):
    """Collects ``<h1 class="cx-section" id>`` and ``<h2 class="cx-sub" id>`` with their text."""

    _WANT = {"h1": ("cx-section", 1), "h2": ("cx-sub", 2)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[dict[str, Any]] = []
        self._tag: str | None = None
        self._parts: list[str] = []
        self._id = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._tag is not None or tag not in self._WANT:
            return
        a = {k: v or "" for k, v in attrs}
        cls, _level = self._WANT[tag]
        if cls in a.get("class", "").split() and a.get("id"):
            self._tag, self._id, self._parts = tag, a["id"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._tag:
            text = " ".join("".join(self._parts).split())
            self.entries.append({"level": self._WANT[tag][1], "id": self._id, "text": text})
            self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag is not None:
            self._parts.append(data)


def toc_entries(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Section (level 1) and sub-section (level 2) headings of a merged notebook, in order.

    Returns
    -------
    list of dict
        ``{"level": 1 | 2, "id": str, "text": str}``; ``text`` is plain (unescaped) text.
    """
    entries: list[dict[str, Any]] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            value = out.get("data", {}).get("text/html")
            if value:
                parser = _HeadingParser()
                parser.feed("".join(value) if isinstance(value, list) else value)
                parser.close()
                entries.extend(parser.entries)
    return entries


def _headings(value: Any) -> list[dict[str, Any]]:
    """The section and sub-section headings in one HTML output (see :func:`toc_entries`)."""
    parser = _HeadingParser()
    parser.feed("".join(value) if isinstance(value, list) else value)
    parser.close()
    return parser.entries


def section_of_outputs(nb: nbformat.NotebookNode) -> list[list[tuple[str | None, str | None]]]:
    """``(section key, sub-section title)`` of every output of every cell of a merged notebook.

    An output belongs to the section of the last ``<h1 class="cx-section" id="sec-<key>">`` heading
    seen in report order (``None`` before the first) and to the sub-section of the last
    ``<h2 class="cx-sub">`` seen since that section heading (``None`` before the first). An output
    holding a heading belongs to it (to its first heading, if it holds several), and the outputs after
    it to its last one. Figures and tables carry no heading of their own and so follow the heading
    above them, whichever notebook or cell emitted it.
    """
    section: str | None = None
    sub: str | None = None
    result = []
    for cell in nb.cells:
        keys = []
        for out in cell.get("outputs", []):
            value = out.get("data", {}).get("text/html")
            found = _headings(value) if value else []
            mine: tuple[str | None, str | None] | None = None
            for h in found:
                if h["level"] == 1:
                    section = h["id"][4:] if h["id"].startswith("sec-") else h["id"]
                    sub = None
                else:
                    sub = h["text"]
                mine = mine or (section, sub)
            keys.append(mine or (section, sub))
        result.append(keys)
    return result


def select_sections(nb: nbformat.NotebookNode, sections: Sequence[str],
                    omit_subsections: Sequence[str] = ()) -> nbformat.NotebookNode:
    """Keep only the outputs of ``sections`` (keys such as ``"to_be"``), less the sub-sections
    titled ``omit_subsections`` (plain heading text), as :func:`section_of_outputs` assigns them.

    Cells left without outputs are removed; ``nb`` is changed in place and returned.
    """
    keep, omit = set(sections), set(omit_subsections)
    cells = []
    for cell, keys in zip(nb.cells, section_of_outputs(nb), strict=True):
        outputs = [o for o, (sec, sub) in zip(cell.get("outputs", []), keys, strict=True)
                   if sec in keep and sub not in omit]
        if outputs:
            cell.outputs = outputs
            cells.append(cell)
    nb.cells = cells
    return nb


def persona_map_headings(nb: nbformat.NotebookNode, lang: str) -> list[str]:
    """Headings of the per-persona journey maps and value canvases (issue 16) in ``nb``: the full
    edition's body keeps the journey map of all customers (AS-IS and TO-BE, one landscape page each) and
    moves the per-persona pages to its supporting analyses, so that the body stays within 35 pages
    (issue 14)."""
    everybody = _label("cjm.map_heading", lang, "cjm.map_heading").replace("{who}", _label("cjm.everybody", lang, ""))
    pattern = heading_pattern("cjm.map_heading", lang)
    return [h["text"] for h in toc_entries(nb) if h["level"] == 2 and pattern.match(h["text"])
            and h["text"] != everybody]


def heading_pattern(key: str, lang: str) -> re.Pattern[str]:
    """The heading text of catalog ``key`` in ``lang`` as a pattern; a ``{placeholder}`` matches any text."""
    text = _label(key, lang, key)
    parts = re.split(r"\{[a-z_]+\}", text)
    return re.compile(".+".join(re.escape(p) for p in parts) + r"\Z")


def move_sections_last(nb: nbformat.NotebookNode, sections: Sequence[str], omit_subsections: Sequence[str] = (),
                       supporting: Sequence[re.Pattern[str]] = ()
                       ) -> tuple[list[nbformat.NotebookNode], list[nbformat.NotebookNode]]:
    """Take out of ``nb`` the sub-sections whose heading matches one of ``supporting`` and the outputs of
    ``sections`` (returned as two lists of cells, in report order, for placing after the methodology
    appendix), and drop the sub-sections titled ``omit_subsections`` everywhere.

    Outputs are assigned to sections as :func:`section_of_outputs` does; ``nb`` is changed in place.
    """
    move, omit = set(sections), set(omit_subsections)
    kept: list[nbformat.NotebookNode] = []
    backing: list[nbformat.NotebookNode] = []
    moved: list[nbformat.NotebookNode] = []

    def where(sec: str | None, sub: str | None) -> str:
        if sub in omit:
            return "drop"
        if sec in move:
            return "moved"
        if sub and any(p.match(sub) for p in supporting):
            return "backing"
        return "kept"

    for cell, keys in zip(nb.cells, section_of_outputs(nb), strict=True):
        groups: dict[str, list[Any]] = {"kept": [], "backing": [], "moved": [], "drop": []}
        for o, (sec, sub) in zip(cell.get("outputs", []), keys, strict=True):
            groups[where(sec, sub)].append(o)
        for name, target, suffix in (("kept", kept, ""), ("backing", backing, "-s"), ("moved", moved, "-m")):
            if groups[name]:
                c = nbformat.NotebookNode(dict(cell))
                c.outputs = groups[name]
                c.id = f"{cell.id}{suffix}"
                target.append(c)
    nb.cells = kept
    return backing, moved


_PARAGRAPHS = re.compile(r'\s*(?:<p class="cx-(?:note|text)">[^<]*</p>\s*)+')


def extract_method_notes(nb: nbformat.NotebookNode, lang: str) -> list[tuple[str, str]]:
    """Take out of the body every output that is only paragraphs (``cx-note`` / ``cx-text``) naming a method,
    a test, a package, a seed or a config key (:data:`cxaudit.pagecheck.JARGON`): such notes belong in the
    methodology appendix (issue 14: plain language in the body). Returns ``(section title, html)`` in
    report order; ``nb`` is changed in place. Tables and figures stay where they are."""
    from .pagecheck import jargon_hits

    titles = {h["id"][4:]: h["text"] for h in toc_entries(nb) if h["level"] == 1 and h["id"].startswith("sec-")}
    notes: list[tuple[str, str]] = []
    cells = []
    for cell, keys in zip(nb.cells, section_of_outputs(nb), strict=True):
        kept = []
        for o, (sec, _sub) in zip(cell.get("outputs", []), keys, strict=True):
            value = o.get("data", {}).get("text/html") or ""
            if sec and _PARAGRAPHS.fullmatch(value) and jargon_hits(html.unescape(re.sub(r"<[^>]+>", " ", value)), lang):
                notes.append((titles.get(sec, sec), value.replace('class="cx-text"', 'class="cx-note"')))
            else:
                kept.append(o)
        if kept:
            cell.outputs = kept
            cells.append(cell)
    nb.cells = cells
    return notes


def next_steps_html(tobe: dict[str, Any] | None, lang: str) -> str:
    """The close of the TO-BE section: next steps, decisions needed, risks, and how CX is to be run
    (closed loop, governance), from ``tobe.json`` (recommendations with owner, cost and due date; the
    targets' checks). Empty without recommendations. All text escaped."""
    from .summary import first_actions, money

    recs = [r for r in (tobe or {}).get("recommendations") or []
            if getattr(r, "on_plan", True) is not False and getattr(r, "quadrant", "") != "reconsider"]
    if not recs:
        return ""
    e = html.escape
    parts = ['<div class="cx-next">']
    parts.append(f'<h2 class="cx-sub" id="sub-to_be-next">{e(t("report.next_steps", lang))}</h2><ol>')
    for a in first_actions(tobe, lang):
        owner = a.owner if a.owner != "—" else t("report.owner_missing", lang)
        due = a.due if a.due != "—" else t("report.due_missing", lang)
        parts.append(f"<li><strong>{e(a.label)}</strong> {e(a.title)} — {e(owner)}, {e(due)}</li>")
    parts.append("</ol>")

    currency = next((r.currency for r in recs if getattr(r, "currency", "")), "")
    costs = [r.cost for r in recs if getattr(r, "cost", None) is not None]
    decisions = [t("report.decide_plan", lang, n=len(recs)) + (
        " " + t("report.decide_cost", lang, cost=money(sum(costs), lang, currency)) if costs else "")]
    no_owner = sum(1 for r in recs if not getattr(r, "owner", ""))
    if no_owner:
        decisions.append(t("report.decide_owner", lang, k=no_owner))
    tg = (tobe or {}).get("targets")
    checks = getattr(tg, "checks", None) or {}
    reset = [t(f"tobe.target.{k}", lang) for k, c in checks.items() if isinstance(c, dict) and c.get("reset")]
    if reset:
        decisions.append(t("report.decide_targets", lang, metrics=", ".join(reset)))
    parts.append(f'<h2 class="cx-sub" id="sub-to_be-decisions">{e(t("report.decisions", lang))}</h2><ul>')
    parts.extend(f"<li>{e(d)}</li>" for d in decisions)
    parts.append("</ul>")

    risks = [t("report.risk_estimates", lang)]
    if reset:
        risks.append(t("report.risk_targets", lang, metrics=", ".join(reset)))
    if no_owner:
        risks.append(t("report.risk_owner", lang))
    parts.append(f'<h2 class="cx-sub" id="sub-to_be-risks">{e(t("report.risks", lang))}</h2><ul>')
    parts.extend(f"<li>{e(x)}</li>" for x in risks)
    parts.append("</ul>")

    owners = sorted({r.owner for r in recs if getattr(r, "owner", "")})
    parts.append(f'<h2 class="cx-sub" id="sub-to_be-governance">{e(t("report.governance", lang))}</h2>')
    for key in ("report.governance_inner", "report.governance_outer", "report.governance_measure"):
        parts.append(f'<p class="cx-text">{e(t(key, lang, owners=", ".join(owners) or "—"))}</p>')
    parts.append("</div>")
    return "".join(parts)


def _alt_from_headings(nb: nbformat.NotebookNode) -> None:
    """A bitmap figure without alt text gets its sub-section's (else its section's) heading as alt text."""
    titles = {h["id"][4:]: h["text"] for h in toc_entries(nb) if h["level"] == 1 and h["id"].startswith("sec-")}
    for cell, keys in zip(nb.cells, section_of_outputs(nb), strict=True):
        for o, (sec, sub) in zip(cell.get("outputs", []), keys, strict=True):
            if "image/png" in o.get("data", {}) and not o.get("metadata", {}).get("cxaudit", {}).get("alt"):
                o.setdefault("metadata", {}).setdefault("cxaudit", {})["alt"] = sub or titles.get(sec or "", "")


def _append_to_section(nb: nbformat.NotebookNode, key: str, block: str) -> None:
    """Add ``block`` (HTML) after the last output of section ``key``; nothing when the section is absent."""
    if not block:
        return
    last = None
    for i, keys in enumerate(section_of_outputs(nb)):
        if any(sec == key for sec, _ in keys):
            last = i
    if last is None:
        return
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"text/html": block})])
    cell.id = f"cx-{key}-close"
    nb.cells.insert(last + 1, cell)


def _insert_after_headings(nb: nbformat.NotebookNode, blocks: dict[str, str], suffix: str = "t") -> None:
    """Place ``blocks[key]`` (HTML) right after the cell holding the ``sec-<key>`` heading; the new
    cell's id is the heading cell's id + ``-<suffix>``."""
    out = []
    for cell in nb.cells:
        out.append(cell)
        for o in cell.get("outputs", []):
            m = _SECTION_ID.search(o.get("data", {}).get("text/html", "") or "")
            if m and blocks.get(m.group(1)):
                c = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/html": blocks[m.group(1)]})])
                c.id = f"{cell.id}-{suffix}"
                out.append(c)
    nb.cells = out


def takeaways(findings: Sequence[Finding], lang: str) -> dict[str, str]:
    """Each section's takeaway headline: the title of its highest-ranked finding (effect on customers
    and money, :func:`cxaudit.summary.key_findings`; in an internal section its own top finding), as
    escaped HTML keyed by section key."""
    from .summary import _score

    best: dict[str, Finding] = {}
    for f in sorted(findings, key=lambda f: (-_score(f), -int(f.severity))):
        best.setdefault(f.section, f)
    return {k: f'<p class="cx-takeaway">{html.escape(f.title)}</p>' for k, f in best.items()}


# --- the report context ---------------------------------------------------------------------------


def _version() -> str:
    try:
        return importlib.metadata.version("cxaudit")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _color(value: str | None, default: str) -> str:
    return value if value and _HEX_COLOR.fullmatch(value) else default


def _mix_with_white(color: str, white_share: float) -> str:
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (255 - c) * white_share) for c in rgb]
    return "#" + "".join(f"{c:02x}" for c in mixed)


_KEEP_TOGETHER = re.compile(r"\b[A-Z]{2,}-[A-Z]{2,}\b|\(\w{1,3}[–-]\w{1,3}\)")


def _keep_together(escaped: str) -> str:
    """Escaped text where "AS-IS" / "TO-BE" and "(1–5)" never break at their dash."""
    return _KEEP_TOGETHER.sub(lambda m: f'<span class="cx-nw">{m.group(0)}</span>', escaped)


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal; anything but letters, digits and a few marks is hex-escaped.

    Each escape is ``\\<hex>`` plus one space, which CSS consumes as the escape's terminator.
    """
    safe = " .,-–—·()"
    return '"' + "".join(ch if ch.isalnum() or ch in safe else f"\\{ord(ch):x} " for ch in text) + '"'


def _logo_data_uri(path: Path) -> str:
    mime = _LOGO_MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"logo {path}: unsupported image type {path.suffix!r} (use {', '.join(_LOGO_MIME)})")
    if not path.is_file():
        raise FileNotFoundError(f"logo {path}: file not found")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _finding_rows(findings: Sequence[Finding], lang: str) -> list[dict[str, Any]]:
    """The top findings by priority (severity × reach; ties: higher severity first), formatted."""

    top = sorted(findings, key=lambda f: (-f.priority, -int(f.severity)))[:TOP_FINDINGS]
    rows = []
    for f in top:
        value, ci = format_value(f, lang)
        rows.append(
            {
                "id": html.escape(f.id),
                "title": html.escape(f.title),
                "value": html.escape(value),
                "n": html.escape(fmt_num(f.n, lang, 0)),
                "ci": html.escape(ci),
                "severity": int(f.severity),
                "reach": html.escape(fmt_pct(f.reach, lang)),
            }
        )
    return rows


def _rec_rows(tobe: dict[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    """The top recommendations of the TO-BE notebook, formatted (empty without ``tobe.json``)."""
    from .recommend import impact_text, revenue_text

    if not tobe:
        return []
    e = html.escape
    return [{"rule": e(r.rule), "label": e(r.label(lang)), "title": e(r.title(lang)),
             "impact": e(impact_text(r, lang)), "revenue": e(revenue_text(r, lang)),
             "effort": e(t(f"tobe.effort.{r.effort}", lang)), "horizon": e(t(f"tobe.horizon.{r.horizon}", lang)),
             "quadrant": e(r.quadrant)}
            for r in tobe["recommendations"][:TOP_RECOMMENDATIONS]]


def _targets_line(tobe: dict[str, Any] | None, lang: str) -> str:
    """"TO-BE in 12 months: NPS +16.9 (95% interval [14.7; 19.1]; n = 4,805) → +25.0; ..." (escaped),
    or "" without targets (parts from :func:`cxaudit.recommend.targets_summary`)."""
    from .recommend import targets_summary

    tg = (tobe or {}).get("targets")
    parts = targets_summary(tg, lang) if tg is not None else []
    if not parts:
        return ""
    return html.escape(t("report.targets_line", lang) + ": " + "; ".join(parts) + ".")


# --- consultant commentary and the methodology appendix ------------------------------------------


def commentary_html(text: str, lang: str) -> str:
    """A consultant's comment as escaped HTML: blank lines separate paragraphs, "- " starts a bullet."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    body = []
    for block in blocks:
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if all(ln.startswith(("- ", "* ")) for ln in lines):
            body.append("<ul>" + "".join(f"<li>{html.escape(ln[2:].strip())}</li>" for ln in lines) + "</ul>")
        else:
            body.append(f"<p>{html.escape(' '.join(lines))}</p>")
    return (f'<aside class="cx-commentary"><p class="cx-commentary-label">{html.escape(t("report.commentary", lang))}'
            f'</p>{"".join(body)}</aside>')


def methodology_data(audit: Any) -> dict[str, Any]:
    """Language-neutral numbers for the appendix: intake per table, exclusions and flags per rule,
    the minimum base, the scales and the segment columns (from :mod:`cxaudit.quality`)."""
    from . import quality

    intake = audit.intake()
    excl = quality.exclusion_summary(audit, "en")
    flags = quality.flag_summary(audit, "en")
    cfg = audit.config
    return {
        "intake": [{"table": r["table"], "file": r["file"], "rows_in": int(r["rows_in"]), "kept": int(r["kept"]),
                    "excluded": int(r["excluded"])} for _, r in intake.iterrows()],
        "exclusions": [{"table": r["table"], "rule": r["rule"], "rows": int(r["rows"])} for _, r in excl.iterrows()],
        "flags": [{"table": r["table"], "rule": r["rule"], "rows": int(r["rows"])} for _, r in flags.iterrows()],
        "min_base": int(cfg.min_base),
        "scales": {k: {"min": v.min, "max": v.max} for k, v in (("csat", cfg.scales.csat), ("ces", cfg.scales.ces),
                                                                   ("touchpoint", cfg.scales.touchpoint))},
        "weighted": audit.has("responses") and "weight" in audit.responses.columns,
    }


def _label(key: str, lang: str, fallback: str) -> str:
    try:
        return t(key, lang)
    except KeyError:
        return fallback


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], num: Sequence[bool]) -> str:
    e = html.escape
    th = "".join(f'<th class="{"cx-num" if n else "cx-txt"}">{e(h)}</th>' for h, n in zip(head, num, strict=True))
    body = "".join("<tr>" + "".join(f'<td class="{"cx-num" if n else "cx-txt"}">{e(c)}</td>'
                                    for c, n in zip(r, num, strict=True)) + "</tr>" for r in rows)
    return f'<table class="cx-table"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _sub(text: str, n: int) -> str:
    return f'<h2 class="cx-sub" id="sub-appendix-{n}">{html.escape(text)}</h2>'


#: At most this many findings in the appendix table: large data makes many small effects significant
#: (the XL demo: 109 findings, 4 pages; the default demo: 37), so the report keeps its length and the
#: rest are named in one line; tables.xlsx lists every finding (issue 19).
MAX_APPENDIX_FINDINGS = 35


def findings_table_html(findings: Sequence[Finding], lang: str, limit: int = MAX_APPENDIX_FINDINGS) -> str:
    """The run's findings in one compact table that fits the page width: rank (effect on customers
    and money), finding, section, value with its interval and base in small type, customers affected.
    Text wraps (fixed column widths); long tables run over pages with the header repeated. Only the
    ``limit`` highest-priority findings are listed; a note counts the others and says where they are."""
    from .summary import _score

    e = html.escape
    rows = []
    ranked = sorted(findings, key=lambda f: (-_score(f), -int(f.severity)))
    for i, f in enumerate(ranked[:limit], start=1):
        value, ci = format_value(f, lang)
        detail = " · ".join(p for p in ((ci if ci != "–" else ""), f"n\u00a0=\u00a0{fmt_int(f.n, lang)}") if p)
        rows.append(f'<tr><td class="cx-num">{i}</td><td class="cx-txt">{e(f.title)}</td>'
                    f'<td class="cx-txt">{e(_label("section." + f.section, lang, f.section))}</td>'
                    f'<td class="cx-num">{e(value)}<br><span class="cx-ci">{e(detail)}</span></td>'
                    f'<td class="cx-num">{e(fmt_pct(f.reach, lang))}</td></tr>')
    head = (f'<thead><tr><th class="cx-num">#</th><th class="cx-txt">{e(t("report.col_finding", lang))}</th>'
            f'<th class="cx-txt">{e(t("report.col_section", lang))}</th>'
            f'<th class="cx-num">{e(t("report.col_value", lang))}</th>'
            f'<th class="cx-num">{e(t("report.col_reach", lang))}</th></tr></thead>')
    return (f'<div class="cx-long"><table class="cx-table cx-all-findings">'
            f'<colgroup><col style="width: 6%"><col style="width: 52%"><col style="width: 16%">'
            f'<col style="width: 16%"><col style="width: 10%"></colgroup>{head}<tbody>{"".join(rows)}</tbody>'
            f'</table></div>'
            + (f'<p class="cx-note">{e(t("report.more_findings", lang, n=fmt_int(len(ranked) - limit, lang), total=fmt_int(len(ranked), lang), sheet=t("tobe.all_findings", lang)))}</p>'
               if len(ranked) > limit else ""))


def appendix_html(findings: Sequence[Finding], tobe: dict[str, Any] | None, lang: str,
                  comment: str | None = None, about: dict[str, str] | None = None,
                  method_notes: Sequence[tuple[str, str]] = (), brief: bool = False,
                  method: AppendixMethod | None = None) -> str:
    """The methodology appendix: formulas, bases of the headline figures, the data-quality summary,
    the assumptions of the TO-BE estimates, every finding in one table and (``about``: ``version``,
    ``run_id``) the tool version and run id. All text from the catalog or escaped data.

    ``method``: another report's own method (the tracking report's): its title, introduction and
    sub-sections of plain-text items replace the audit's formulas, bases, data quality and TO-BE
    assumptions; the notes on how sections were tested, the findings and the run details stay."""
    e = html.escape
    if method is not None:
        parts = [f'<h1 class="cx-section" id="{APPENDIX_ID}">{e(method.title)}</h1>',
                 f'<p class="cx-text">{e(method.intro)}</p>']
        for i, (heading, items) in enumerate(method.sections, start=10):
            parts.append(_sub(heading, i))
            parts.append('<ul class="cx-method">' + "".join(f"<li>{e(x)}</li>" for x in items) + "</ul>")
        _append_notes_findings_about(parts, findings, lang, about, method_notes)
        return "".join(parts)
    parts = [f'<h1 class="cx-section" id="{APPENDIX_ID}">{e(t("report.appendix", lang))}</h1>',
             f'<p class="cx-text">{e(t("report.appendix_intro", lang))}</p>']
    if comment:
        parts.append(commentary_html(comment, lang))
    parts.append(_sub(t("report.method_formulas", lang), 1))
    items = "".join(f"<li>{e(t(f'report.method.{k}', lang))}</li>" for k in METHOD_KEYS)
    parts.append(f'<ul class="cx-method">{items}</ul>')

    if brief:  # the brief edition: formulas and the run's details; the full report has the rest
        if about:
            parts.append(_sub(t("report.about_run", lang), 6))
            parts.append(f'<p class="cx-note">{e(t("report.generated_by", lang, version=about.get("version", ""), run_id=about.get("run_id", "–")))}</p>')
        return "".join(parts)
    parts.append(_sub(t("report.method_bases", lang), 2))
    rows = []
    for f in findings:
        if f.id.endswith(".overall"):
            value, ci = format_value(f, lang)
            rows.append([f.title, value, fmt_int(f.n, lang), ci])
    if rows:
        parts.append(_table([t("report.col_finding", lang), t("report.col_value", lang), t("metrics.col_n", lang),
                             t("metrics.col_ci", lang)], rows, [False, True, True, True]))
    meth = (tobe or {}).get("methodology") or {}
    if meth.get("min_base"):
        parts.append(f'<p class="cx-note">{e(t("report.small_base", lang, min=meth["min_base"]))}</p>')

    parts.append(_sub(t("report.method_quality", lang), 3))
    if meth.get("intake"):
        parts.append(_table(
            [t("quality.col_table", lang), t("quality.col_file", lang), t("quality.col_rows_in", lang),
             t("quality.col_kept", lang), t("quality.col_excluded", lang)],
            [[_label(f"table.{r['table']}", lang, r["table"]), r["file"], fmt_int(r["rows_in"], lang),
              fmt_int(r["kept"], lang), fmt_int(r["excluded"], lang)] for r in meth["intake"]],
            [False, False, True, True, True]))
        for key, title in (("exclusions", "quality.exclusions"), ("flags", "quality.flags")):
            if meth.get(key):
                parts.append(f'<p class="cx-text"><strong>{e(t(title, lang))}</strong></p>')
                parts.append(_table(
                    [t("quality.col_table", lang), t("quality.col_rule", lang), t("quality.col_count", lang)],
                    [[_label(f"table.{r['table']}", lang, r["table"]), _label(f"rule.{r['rule']}", lang, r["rule"]),
                      fmt_int(r["rows"], lang)] for r in meth[key]], [False, False, True]))
    else:
        parts.append(f'<p class="cx-note">{e(t("report.method_no_quality", lang))}</p>')

    assumptions = meth.get("assumptions") or {}
    if tobe and assumptions:
        parts.append(_sub(t("report.method_assumptions", lang), 4))
        parts.append(f'<p class="cx-text">{e(t("report.method.impact", lang))}</p>')
        rows = []
        for k, v in assumptions.items():
            label = _label(f"report.assumption.{k}", lang, k)
            rows.append([label, fmt_num(v, lang, 2) if k == "quick_win_min_nps" else fmt_pct(v, lang)])
        parts.append(_table([t("report.col_assumption", lang), t("report.col_value", lang)], rows, [False, True]))
        from .recommend import targets_notes

        if tobe.get("targets") is not None:
            notes = "".join(f"<li>{e(n)}</li>" for n in targets_notes(tobe["targets"], lang))
            parts.append(f'<ul class="cx-method">{notes}</ul>')
    _append_notes_findings_about(parts, findings, lang, about, method_notes)
    return "".join(parts)


def _append_notes_findings_about(parts: list[str], findings: Sequence[Finding], lang: str,
                                 about: dict[str, str] | None, method_notes: Sequence[tuple[str, str]]) -> None:
    """The appendix's closing parts: how each section was tested, all findings, the run's details."""
    e = html.escape
    if method_notes:
        parts.append(_sub(t("report.method_notes", lang), 7))
        last = None
        for title, note in method_notes:  # already sanitised notebook HTML
            if title != last:
                parts.append(f'<p class="cx-text"><strong>{e(title)}</strong></p>')
                last = title
            parts.append(note)
    if findings:
        parts.append(_sub(t("report.all_findings", lang), 5))
        parts.append(findings_table_html(findings, lang))
    if about:
        parts.append(_sub(t("report.about_run", lang), 6))
        parts.append(f'<p class="cx-note">{e(t("report.generated_by", lang, version=about.get("version", ""), run_id=about.get("run_id", "–")))}</p>')


@dataclass(frozen=True)
class AppendixMethod:
    """A report's own methodology appendix (see :func:`appendix_html`): plain text, escaped there."""

    title: str
    intro: str
    sections: Sequence[tuple[str, Sequence[str]]]


#: Formula paragraphs of the appendix (``report.method.<key>``), in order.
METHOD_KEYS: tuple[str, ...] = ("nps", "csat", "ces", "intervals", "weights", "significance", "drivers",
                                "pain_points", "themes", "churn", "impact", "targets")


_SECTION_ID = re.compile(r'<h1 class="cx-section" id="sec-([^"]+)"')


def _insert_commentary(nb: nbformat.NotebookNode, commentary: dict[str, str], lang: str) -> None:
    """Place each section's comment right after the cell that opens the section."""
    _insert_after_headings(nb, {k: commentary_html(v, lang) for k, v in commentary.items() if v}, suffix="c")


def _context(
    *,
    nb: nbformat.NotebookNode,
    findings: Sequence[Finding],
    client_name: str,
    lang: str,
    branding: Branding | None,
    logo_path: Path | None,
    period: tuple[date, date] | None,
    run_id: str,
    report_date: date,
    tobe: dict[str, Any] | None = None,
    commentary: dict[str, str] | None = None,
    edition: str = "full",
    omitted: Sequence[str] = (),
    client_dir: Path | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Everything the template shows besides the cells; all text HTML-escaped here. ``omitted``: the
    titles of the sections the full edition has and this (brief) edition leaves out."""
    e = html.escape
    branding = branding or Branding()
    primary = _color(branding.primary_color, "#1f3b5c")
    accent = _color(branding.accent_color, "#d9822b")
    title = title or t("report.title", lang)  # the page header too: a tracking report says what it is
    edition_label = t("report.edition_brief", lang) if edition == "brief" else ""
    edition_note = ""
    if edition == "brief":
        edition_note = t("report.brief_note", lang)
        if omitted:
            edition_note += " " + t("report.brief_omitted", lang, sections="; ".join(omitted))

    meta = [(t("report.version", lang), branding.version), (t("report.date", lang), fmt_date(report_date, lang))]
    if period is not None:
        start, end = period
        meta.append((t("report.period", lang), f"{fmt_date(start, lang)} – {fmt_date(end, lang)}"))
    meta.append((t("report.language", lang), t("report.language_name", lang)))

    exec_title = t("report.exec_summary", lang)
    toc = [{"level": 1, "id": EXEC_SUMMARY_ID, "text": e(exec_title)}]
    toc += [{"level": h["level"], "id": e(h["id"]), "text": e(h["text"])} for h in toc_entries(nb)]

    from .summary import (
        answer_sentence,
        first_actions,
        headline_metrics,
        key_findings,
        reach_chart_svg,
        svg_data_uri,
    )

    currency = str(getattr((tobe or {}).get("targets"), "currency", "") or "")
    keys = key_findings(findings, top=TOP_FINDINGS)
    chart = reach_chart_svg(keys, lang, primary)
    key_rows = []
    for i, k in enumerate(keys, start=1):
        value, ci = format_value(k.finding, lang)
        detail = " · ".join(p for p in ((t("report.kpi_interval", lang, ci=ci) if ci != "–" else ""),
                                        f"n\u00a0=\u00a0{fmt_int(k.finding.n, lang)}") if p)
        key_rows.append({
            "rank": i, "id": e(k.finding.id), "title": e(k.finding.title), "value": e(value), "detail": e(detail),
            "reach": e(fmt_pct(k.finding.reach, lang)), "severity": int(k.finding.severity),
            "internal": k.finding.section in ("employees",),
            "explained_by": [e(x.title) for x in k.explained_by],
        })
    contacts = [{"name": e(c.name), "role": e(c.role or ""), "email": e(c.email or ""), "phone": e(c.phone or "")}
                for c in branding.contacts]
    consultancy_logo = ""
    if branding.consultancy_logo and client_dir is not None:
        consultancy_logo = _logo_data_uri(Path(client_dir) / branding.consultancy_logo)

    page_label = t("report.page", lang)
    css_dynamic = (
        ":root {\n"
        f"  --cx-primary: {primary};\n"
        f"  --cx-accent: {accent};\n"
        f"  --cx-primary-tint: {_mix_with_white(primary, 0.9)};\n"
        f"  --cx-accent-tint: {_mix_with_white(accent, 0.85)};\n"
        "}\n"
        "@page {\n"
        f"  @top-left {{ content: {_css_string(' · '.join(filter(None, (client_name, title, edition_label))))}; }}\n"
        f"  @bottom-right {{ content: {_css_string(page_label + ' ')} counter(page) \" / \" counter(pages); }}\n"
        "}\n"
    )
    return {
        "lang": lang,
        "version": e(_version()),
        "css_dynamic": css_dynamic,
        "title": e(title),
        "subtitle": _keep_together(e(t("report.subtitle", lang))),
        "edition": edition,
        "edition_label": e(edition_label),
        "edition_note": _keep_together(e(edition_note)),
        "prepared_for": e(t("report.prepared_for", lang)),
        "client": e(client_name),
        "logo_uri": _logo_data_uri(Path(logo_path)) if logo_path is not None else "",
        "meta": [(e(k), e(v)) for k, v in meta],
        "toc_title": e(t("report.toc", lang)),
        "toc": toc,
        "exec_id": EXEC_SUMMARY_ID,
        "exec_title": e(exec_title),
        "exec_intro": _keep_together(e(t("report.exec_intro", lang, client=client_name))),
        "top_findings": e(t("report.top_findings", lang)),
        "no_findings": e(t("report.no_findings", lang)),
        "findings": _finding_rows(findings, lang),
        "top_recs": e(t("report.top_recommendations", lang)),
        "recs": _rec_rows(tobe, lang),
        "targets_line": _targets_line(tobe, lang),
        "exec_comment": commentary_html(commentary["executive_summary"], lang)
        if commentary and commentary.get("executive_summary") else "",
        "rec_cols": {
            "title": e(t("report.col_recommendation", lang)),
            "impact": e(t("tobe.col_impact", lang)),
            "revenue": e(t("tobe.col_revenue", lang)),
            "effort": e(t("tobe.col_effort", lang)),
            "horizon": e(t("tobe.col_horizon", lang)),
        },
        "cols": {
            "finding": e(t("report.col_finding", lang)),
            "value": e(t("report.col_value", lang)),
            "n": e(t("metrics.col_n", lang)),
            "ci": e(t("metrics.col_ci", lang)),
            "severity": _keep_together(e(t("report.col_severity", lang))),
            "reach": e(t("report.col_reach", lang)),
        },
        "answer": e(answer_sentence(keys, tobe, lang)),
        "kpis": [{"key": m.key.rsplit("_", 1)[-1], "label": e(m.label), "value": e(m.value), "detail": e(m.detail)}
                 for m in headline_metrics(findings, lang, currency, tobe)],
        "actions_title": e(t("report.first_actions", lang)),
        "actions": [{k: e(v) for k, v in vars(a).items()} for a in first_actions(tobe, lang)],
        "action_cols": {"title": e(t("report.col_action", lang)), "value": e(t("report.col_action_value", lang)),
                        "cost": e(t("report.col_cost", lang)), "owner": e(t("report.col_owner", lang)),
                        "due": e(t("report.col_due", lang))},
        "key_findings": key_rows,
        "explained_by": e(t("report.explained_by", lang)),
        "chart_uri": svg_data_uri(chart[0]) if chart else "",
        "chart_alt": e(chart[1]) if chart else "",
        "chart_title": e(t("report.chart_reach_title", lang)),
        "consultancy": e(branding.consultancy or ""),
        "consultancy_logo": consultancy_logo,
        "prepared_by": e(t("report.prepared_by", lang)),
        "confidential": e(branding.confidentiality or t("report.confidential", lang)),
        "contacts_title": e(t("report.contacts", lang)),
        "contacts": contacts,
        "page_label": e(page_label),
        # the report's one script (sortable tables), the template's own file, with no URL in it
        "js": (TEMPLATES_DIR / TEMPLATE_NAME / "report.js").read_text(encoding="utf-8").replace("</", "<\\/"),
        "toc_toggle": e(t("report.toc", lang)),
    }


# --- rendering ------------------------------------------------------------------------------------


def _render_html(nb: nbformat.NotebookNode, context: dict[str, Any], *, lang: str, title: str) -> str:
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.exclude_markdown = True
    config.HTMLExporter.exclude_raw = True
    config.HTMLExporter.exclude_unknown = True
    # No code is shown, so no Pygments CSS. (A template's conf.json cannot switch it off: nbconvert
    # merges the parent's conf.json over the child's.)
    config.CSSHTMLHeaderPreprocessor.enabled = False
    exporter = HTMLExporter(
        config=config, template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES_DIR)]
    )
    exporter.language_code = lang
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "cx": context})
    return body


@contextmanager
def _quiet_weasyprint() -> Iterator[None]:
    """WeasyPrint logs every CSS property it ignores as a warning; keep only errors while printing."""
    loggers = [logging.getLogger("weasyprint"), logging.getLogger("weasyprint.progress")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _write_pdf(html_text: str, out: Path, base_url: Path) -> None:
    import weasyprint

    try:  # WeasyPrint >= 66: a fetcher class that can be limited to some protocols
        from weasyprint.urls import URLFetcher

        fetcher: Any = URLFetcher(allowed_protocols={"data"})
    except ImportError:  # pragma: no cover - older WeasyPrint

        def fetcher(url: str) -> dict[str, Any]:
            if not url.startswith("data:"):
                raise ValueError(f"the report fetches nothing but data: URLs, got {url[:60]!r}")
            return weasyprint.default_url_fetcher(url)

    with _quiet_weasyprint():
        weasyprint.HTML(string=html_text, base_url=str(base_url), url_fetcher=fetcher).write_pdf(str(out))


def build_report(
    run_dir: Path,
    *,
    client_name: str,
    lang: str,
    branding: Branding | None = None,
    logo_path: Path | None = None,
    period: tuple[date, date] | None = None,
    run_id: str = "",
    report_date: date | None = None,
    formats: Sequence[str] = ("html", "pdf"),
    notebooks: Sequence[Path] | None = None,
    client_dir: Path | None = None,
    edition: str = "full",
    title: str | None = None,  # cover / page title instead of the audit's (the tracking report's)
    subtitle: str | None = None,  # cover subtitle instead of the audit's
    method: AppendixMethod | None = None,  # the appendix's method part instead of the audit's (tracking)
) -> dict[str, Path]:
    """Render the client report of a run as ``report.html`` and/or ``report.pdf`` in ``run_dir``
    (the brief edition as ``report-brief.html`` / ``report-brief.pdf``).

    Parameters
    ----------
    run_dir : Path
        The run directory: executed notebooks in ``notebooks/``, findings in ``findings/``.
    client_name : str
        The client's display name (cover, executive summary, page header).
    lang : {"en", "ru", "pl"}
        Report language: every label comes from the :mod:`cxaudit.i18n` catalog of this language.
    branding : Branding, optional
        Brand colours (``primary_color``, ``accent_color``); defaults to cxaudit's.
    logo_path : Path, optional
        Logo image (png, jpg, gif, svg, webp) shown on the cover, embedded as a ``data:`` URI.
    period : (date, date), optional
        First and last day of the data, shown on the cover.
    run_id : str
        Shown in the footer line.
    report_date : date, optional
        Date on the cover; today by default.
    formats : sequence of {"html", "pdf"}
        What to write. Both files come from the same HTML string.
    notebooks : sequence of Path, optional
        Executed notebooks in report order; default: ``sorted(run_dir/notebooks/*.ipynb)``.
    client_dir : Path, optional
        The client folder: its ``commentary.yaml`` / ``commentary.md`` is read here. Without it the
        commentary the TO-BE notebook stored in ``tobe.json`` is used.
    method : AppendixMethod, optional
        The appendix's method part of a report that is not the audit (the tracking report): replaces
        the audit's formulas, bases, data-quality summary and TO-BE assumptions.
    edition : {"full", "brief"}
        ``"full"``: every section. ``"brief"``: cover, executive summary, the sections of
        :data:`BRIEF_SECTIONS` and the methodology appendix (see the module docstring).

    Returns
    -------
    dict of str to Path
        ``{"html": run_dir/"report.html", "pdf": run_dir/"report.pdf"}`` for the formats written
        (``report-brief.*`` for the brief edition).

    Raises
    ------
    ValueError
        For an unknown format, language or edition.
    FileNotFoundError
        When ``run_dir`` holds no executed notebook (and none were given), or the logo is missing.
    """
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; expected some of {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    if edition not in EDITIONS:
        raise ValueError(f"unknown report edition {edition!r}; expected one of {', '.join(EDITIONS)}")
    run_dir = Path(run_dir)
    if notebooks is None:
        notebooks = sorted((run_dir / "notebooks").glob("*.ipynb"))
        if not notebooks:
            raise FileNotFoundError(f"no executed notebooks in {run_dir / 'notebooks'}")

    from .recommend import load_commentary, read_tobe

    started = time.perf_counter()
    nb = merge_notebooks([Path(p) for p in notebooks])
    findings = read_findings(run_dir)
    tobe = read_tobe(run_dir)
    commentary = dict((tobe or {}).get("commentary") or {})
    if client_dir is not None:
        commentary = load_commentary(client_dir, lang)
    _insert_commentary(nb, commentary, lang)
    _insert_after_headings(nb, takeaways(findings, lang))
    _append_to_section(nb, "to_be", next_steps_html(tobe, lang))
    _alt_from_headings(nb)
    omitted: list[str] = []
    if edition == "brief":
        omitted = [h["text"] for h in toc_entries(nb) if h["level"] == 1
                   and not (h["id"].startswith("sec-") and h["id"][4:] in BRIEF_SECTIONS)]
        select_sections(nb, BRIEF_SECTIONS, [_label(k, lang, k) for k in BRIEF_OMIT_SUBSECTIONS]
                        + persona_map_headings(nb, lang))
    supporting = [heading_pattern(k, lang) for k in SUPPORTING_SUBSECTIONS]
    # the journey maps of all customers stay in the body, the per-persona maps and canvases (three landscape
    # pages a persona) go to the supporting analyses: the body stays within 35 pages (issue 14)
    supporting += [re.compile(re.escape(h) + r"\Z") for h in persona_map_headings(nb, lang)]
    backing, moved = move_sections_last(
        nb, [k for k in APPENDIX_SECTIONS if k not in BRIEF_SECTIONS], [_label(k, lang, k) for k in OMIT_SUBSECTIONS],
        supporting)
    method_notes = extract_method_notes(nb, lang)
    about = {"version": _version(), "run_id": run_id or "–", "edition": edition}
    appendix = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": appendix_html(findings, tobe, lang, commentary.get("appendix"),
                                                         about=about, method_notes=method_notes,
                                                         brief=edition == "brief", method=method)})])
    appendix.id = "cx-appendix"
    nb.cells.append(appendix)
    if backing:
        head = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"text/html": (
            f'<h1 class="cx-section" id="{SUPPORTING_ID}">{html.escape(t("report.supporting", lang))}</h1>'
            f'<p class="cx-text">{html.escape(t("report.supporting_intro", lang))}</p>')})])
        head.id = "cx-supporting"
        nb.cells.append(head)
        nb.cells.extend(backing)
    nb.cells.extend(moved)
    context = _context(
        nb=nb,
        findings=findings,
        client_name=client_name,
        lang=lang,
        branding=branding,
        logo_path=logo_path,
        period=period,
        run_id=run_id,
        report_date=report_date or date.today(),
        tobe=tobe,
        commentary=commentary,
        edition=edition,
        omitted=omitted,
        client_dir=client_dir,
        title=title,
    )
    if title:
        context["title"] = html.escape(title)
    if subtitle:
        context["subtitle"] = _keep_together(html.escape(subtitle))
    title = " · ".join([title or t("report.title", lang), client_name] + ([t("report.edition_brief", lang)]
                                                                          if edition == "brief" else []))
    html_text = _render_html(nb, context, lang=lang, title=title)
    log.info("report (%s): %d notebook(s) merged and rendered to HTML in %.2f s", edition, len(notebooks),
             time.perf_counter() - started)

    stem = REPORT_STEMS[edition]
    out: dict[str, Path] = {}
    if "html" in formats:
        out["html"] = run_dir / f"{stem}.html"
        out["html"].write_text(html_text, encoding="utf-8")
    if "pdf" in formats:
        started = time.perf_counter()
        out["pdf"] = run_dir / f"{stem}.pdf"
        _write_pdf(html_text, out["pdf"], run_dir)
        log.info("report (%s): PDF written in %.2f s", edition, time.perf_counter() - started)
    return out
