"""`cxaudit run demo --lang ru|pl` gives a fully translated report: no English catalog string is left.

The whole chain runs on the small demo client generated in the report language (whatever notebooks
the chain holds today: the test is generic). The visible text of the rendered HTML (text nodes and
``alt``/``title`` attributes; not CSS) is checked against the catalogs: no literal part of an English
catalog value that differs from the ru/pl value may appear in the ru/pl report, and neither may the
English text of a recommendation rule. Strings that come from the client's own data are not catalog
text and are skipped, and so are terms the translation itself keeps (``AS-IS``, an author's name, a
formula).

That check cannot see codes that come from the data: channel and language codes (``app``, ``ru``) and
months written as ``YYYY-MM``. The tables are therefore checked separately: no cell is a channel or
language code, no cell holds an ISO month, no ISO date is left in the text, and the demo's department
names are the ones of the report language.
"""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cxaudit.demo import PLANTED, generate_demo
from cxaudit.i18n import catalog, fmt_date
from cxaudit.recommend import builtin_rules
from cxaudit.runner import run_audit

pytestmark = pytest.mark.slow


class _Visible(HTMLParser):
    """Text a reader sees: text nodes outside <style>/<script>, plus alt and title attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("alt", "title") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Visible()
    p.feed(html)
    return " ".join(" ".join(p.parts).replace("\u00a0", " ").split())


def _fragments(template: str) -> list[str]:
    """Literal parts of a catalog / rule template between its placeholders that read as English text:
    at least two words, or one word of six letters or more."""
    text = re.sub(r"\[\[|\]\]", " ", template)
    try:
        literal = [lit for lit, _, _, _ in string.Formatter().parse(text)]
    except ValueError:
        literal = [text]
    out = []
    for lit in literal:
        for piece in re.split(r"[()\[\];:,.!?«»“”„\"]+", lit):
            piece = " ".join(piece.replace("\u00a0", " ").split()).strip(" -–—·/%×")
            words = re.findall(r"[A-Za-z]+", piece)
            if piece and (len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 6 and words[0] == piece)):
                out.append(piece)
    return out


def english_leftovers(text: str, lang: str, data_text: str) -> list[str]:
    en, other = catalog("en"), catalog(lang)
    candidates: dict[str, str] = {}
    for key, value in en.items():
        if other.get(key) != value:
            for frag in _fragments(value):
                candidates.setdefault(frag, key)
    for rule in builtin_rules().rules:
        for field in ("title", "action"):
            if getattr(rule.text["en"], field) != getattr(rule.text[lang], field):
                for frag in _fragments(getattr(rule.text["en"], field)):
                    candidates.setdefault(frag, f"rule {rule.id}.{field}")
    # a term the translation itself keeps ("AS-IS", "top-2 box", an author's name, a formula) is not a leftover
    kept = " ".join(other.values()) + " " + " ".join(
        getattr(r.text[lang], fld) for r in builtin_rules().rules for fld in ("title", "action"))
    found = []
    for frag, key in candidates.items():
        if frag not in text or frag in data_text or frag in kept:  # absent / the client's data / kept term
            continue
        if re.search(r"(?<![A-Za-z])" + re.escape(frag) + r"(?![A-Za-z])", text):
            found.append(f"{key}: {frag!r}")
    return sorted(found)


@pytest.fixture(scope="module", params=["ru", "pl"])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    lang = request.param
    home = tmp_path_factory.mktemp(f"home-{lang}")
    mp = pytest.MonkeyPatch()
    mp.setenv("CXAUDIT_HOME", str(home))
    folder = generate_demo(home / "data" / "demo", size="small", lang=lang, seed=7)
    result = run_audit("demo", lang=lang, formats=("html",), progress=False, timeout=300)
    data_text = " ".join(" ".join(p.read_text(encoding="utf-8").split())
                         for p in sorted(Path(folder).iterdir()) if p.suffix in (".csv", ".yaml"))
    yield lang, result, (result.run_dir / "report.html").read_text(encoding="utf-8"), data_text
    mp.undo()


def test_no_english_catalog_string_in_the_report(report) -> None:
    lang, _, html, data_text = report
    text = visible_text(html)
    assert english_leftovers(text, lang, data_text) == []


def test_report_is_in_the_language_with_local_formats(report) -> None:
    lang, result, html, _ = report
    text = visible_text(html)
    assert f'<html lang="{lang}">' in html
    cat = catalog(lang)
    for key in ("report.toc", "report.exec_summary", "report.top_findings", "report.appendix", "section.to_be"):
        assert cat[key] in text, key
    started = result.manifest["started_utc"][:10]
    from datetime import date

    assert fmt_date(date.fromisoformat(started), lang).replace("\u00a0", " ") in text  # (text: NBSP -> space)
    # decimal commas in the executive summary's numbers
    summary = html[html.index('id="cx-exec-summary"'): html.index('class="cx-body"')]
    assert re.search(r"\d,\d", summary) and not re.search(r"\d\.\d", visible_text(summary))
    if (result.run_dir / "tobe.json").is_file():
        assert cat["report.first_actions"] in text  # the summary's first three actions


def test_the_check_itself_catches_english(report) -> None:
    """The detector is not vacuous: English catalog text pasted into the page is found."""
    lang, _, html, data_text = report
    en = catalog("en")
    probe = visible_text(html) + " " + en["tobe.matrix_intro"] + " " + en["report.top_findings"]
    found = english_leftovers(probe, lang, data_text)
    assert any(f.startswith("tobe.matrix_intro") for f in found)
    assert any(f.startswith("report.top_findings") for f in found)


# --- codes and dates from the data (the catalog check above skips the data) ----------------------------

#: Channel codes and language codes the demo (and most clients) write in their files ("E-mail" is the
#: Polish and English name of the e-mail channel, so "e-mail" is not among them).
CHANNEL_CODES = frozenset({"site", "web", "app", "chat", "email", "phone", "store", "social", "sms"})
LANGUAGE_CODES = frozenset({"en", "ru", "pl"})
ISO_MONTH = re.compile(r"(?<![\d-])20\d\d-(0[1-9]|1[0-2])(?![\d])")  # 2025-11 (also inside 2025-11-03)


class _Cells(HTMLParser):
    """The text of every table cell (``td`` / ``th``), each line separately (a cell's interval is on
    its own line after ``<br>``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[list[str]] = []
        self._cur: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self._cur = [""]
        elif tag == "br" and self._cur is not None:
            self._cur.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cur is not None:
            self.cells.append([" ".join(x.replace("\u00a0", " ").split()) for x in self._cur])
            self._cur = None

    def handle_data(self, data: str) -> None:
        if self._cur is not None:
            self._cur[-1] += data


def table_cells(html: str) -> list[list[str]]:
    p = _Cells()
    p.feed(html)
    return p.cells


def coded_cells(html: str) -> list[str]:
    """Cells whose text (a line of it) is a bare channel or language code."""
    return sorted({line for cell in table_cells(html) for line in cell
                   if line.lower() in CHANNEL_CODES | LANGUAGE_CODES})


def iso_month_cells(html: str) -> list[str]:
    return sorted({line for cell in table_cells(html) for line in cell if ISO_MONTH.search(line)})


def test_no_channel_or_language_code_in_a_table(report) -> None:
    """Channel values of the segment tables, the data-quality base sizes, the journey, VoC and ticket
    tables, and the language of VoC topics are named in the report language (cxaudit.i18n.value_label)."""
    _, _, html, _ = report
    assert len(table_cells(html)) > 500  # the report is full of tables
    assert coded_cells(html) == []


def test_no_iso_month_in_a_table(report) -> None:
    """Months (metrics by month, churn by month, ...) read "ноя 2025" / "lis 2025", not "2025-11"."""
    _, _, html, _ = report
    assert iso_month_cells(html) == []


def test_no_iso_month_or_date_in_the_text(report) -> None:
    """Nor in the notes and findings around the tables (the churn data window, the months of a change)."""
    _, _, html, _ = report
    text = visible_text(html)
    assert [text[max(0, m.start() - 40): m.end() + 10] for m in ISO_MONTH.finditer(text)] == []


def test_demo_departments_are_named_in_the_report_language(report) -> None:
    lang, _, html, data_text = report
    text = visible_text(html)
    english = [en for en, local in zip(PLANTED["departments"]["en"], PLANTED["departments"][lang], strict=True)
               if en != local]
    assert english and not [d for d in english if re.search(r"(?<![\w-])" + re.escape(d) + r"(?![\w-])", text)]
    assert PLANTED["low_motivation_department"]["name"][lang] in text
    assert PLANTED["low_motivation_department"]["name"][lang] in data_text


def test_the_table_checks_catch_codes_and_months() -> None:
    """The cell checks are not vacuous: a code or an ISO month in a cell (or under a <br>) is found,
    a localised name or a word that merely contains a code is not."""
    html = ('<table><tr><th>Канал</th><th>n</th></tr>'
            '<tr><td class="cx-txt">app</td><td>2025-11</td></tr>'
            '<tr><td>Сайт</td><td>12<br><span class="cx-ci">[2025-12-01; x]</span></td></tr>'
            '<tr><td>Ru 12</td><td>ноя\u00a02025</td><td>happy</td><td>RU</td></tr></table><p>app 2024-01</p>')
    assert coded_cells(html) == ["RU", "app"]
    assert iso_month_cells(html) == ["2025-11", "[2025-12-01; x]"]


def test_no_jargon_in_the_body(report) -> None:
    """Issue 14: no method, package, seed, column or config name in the body of either edition (they are
    in the methodology appendix)."""
    from cxaudit.pagecheck import body_text, jargon_hits
    from cxaudit.report import build_report

    lang, result, html, _ = report
    assert jargon_hits(body_text(html), lang) == []
    brief = build_report(result.run_dir, client_name="Demo", lang=lang, edition="brief", formats=("html",))
    assert jargon_hits(body_text(brief["html"].read_text(encoding="utf-8")), lang) == []
