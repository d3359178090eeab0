"""The client deck: ``report.pptx`` of a finished run, written with python-pptx.

Slides: a title slide; the executive summary (headline metrics with their 95 % intervals and bases,
the answer, the three actions to start with: value, cost, owner, date); the key findings; the
targets; the recommendations on the plan; impact × effort; the roadmap; the business case. Every
content slide has a takeaway title (what the slide says, not what it shows).

A client template (``client.branding.pptx_template`` in audit.yaml, a .pptx inside the client
folder) sets the master: its slide layouts, theme fonts and colours are used and its own slides are
dropped. Without one, python-pptx's default template at 16:9.

Text fits its box: every text frame is sized by :func:`fit_size`, which estimates the wrapped line
count from the characters per line at a conservative average glyph width (0.6 em) and shrinks the
font (down to a floor) until lines × line height fit the box; tables are split so that their
estimated height fits the slide. ``tests/test_deck.py`` re-measures the saved deck with real glyph
widths (Pillow, DejaVu Sans) and fails on a frame whose text would overflow.

Figures are the TO-BE figures of :mod:`cxaudit.recommend`, rendered to PNG at 150 dpi.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Inches, Pt

from .errors import ConfigError, CxauditError
from .i18n import fmt_ci, fmt_date, fmt_num, fmt_pct, t

__all__ = ["DECK_FILE", "build_deck", "fit_size", "estimate_lines", "GLYPH_EM", "LINE_SPACING"]

DECK_FILE = "report.pptx"
#: Average glyph width as a share of the font size used to estimate wrapping (conservative for sans fonts).
GLYPH_EM = 0.6
#: Bold glyphs are about this much wider.
BOLD_WIDER = 1.15
#: Line height as a multiple of the font size.
LINE_SPACING = 1.2
_MARGIN = Inches(0.5)
_TITLE_H = Inches(1.0)
_EMU_PER_PT = 12700
_INSET = Inches(0.1)  # python-pptx's default left/right inset of a text frame
_INSET_V = Inches(0.05)
_DARK = RGBColor(0x1D, 0x24, 0x30)
_GREY = RGBColor(0x5F, 0x6B, 0x7A)


# --- text fitting -----------------------------------------------------------------------------------


#: estimate_lines' answer when a word would have to break and ``allow_break`` is False.
_BROKEN = 10**6


def estimate_lines(paragraphs: Sequence[str], width_pt: float, size_pt: float, em: float = GLYPH_EM,
                   allow_break: bool = True) -> int:
    """Wrapped lines of ``paragraphs`` in a box ``width_pt`` wide at ``size_pt``: greedy word wrap
    at ordinary spaces (a no-break space joins) with every glyph ``em`` × size wide. A word longer
    than a line breaks, or makes the answer huge when ``allow_break`` is False."""
    per_line = max(int(width_pt / (em * size_pt)), 1)
    lines = 0
    for para in paragraphs:
        cur, n = 0, 1
        for word in re.split(r"[ \t\n]+", str(para).strip()):
            if not word:
                continue
            w = len(word)
            if w > per_line and not allow_break:
                return _BROKEN
            while w > per_line:  # a word longer than a line breaks
                if cur:
                    n, cur = n + 1, 0
                w -= per_line
                n += 1
            need = w if cur == 0 else cur + 1 + w
            if need > per_line:
                n, cur = n + 1, w
            else:
                cur = need
        lines += n
    return lines


def fit_size(paragraphs: Sequence[str], width: int, height: int, max_pt: float, min_pt: float = 9.0,
             bold: bool = False) -> float | None:
    """The largest font size (steps of 0.5 pt, ``max_pt`` down to ``min_pt``) at which the estimated
    lines × line height fit a box of ``width`` × ``height`` EMU (insets taken off); None if none does.
    Bold text is taken as :data:`BOLD_WIDER` times wider."""
    w_pt = (width - 2 * _INSET) / _EMU_PER_PT
    h_pt = (height - 2 * _INSET_V) / _EMU_PER_PT
    em = GLYPH_EM * (BOLD_WIDER if bold else 1.0)
    for allow_break in (False, True):  # a size at which no word breaks first
        size = max_pt
        while size >= min_pt:
            if estimate_lines(paragraphs, w_pt, size, em, allow_break) * size * LINE_SPACING <= h_pt:
                return size
            size -= 0.5
    return None


def _text_box(slide: Any, left: int, top: int, width: int, height: int, paragraphs: Sequence[str],
              max_pt: float = 18, min_pt: float = 9, *, bold_first: bool = False, colour: RGBColor = _DARK,
              align: Any = None) -> Any:
    """A text box whose font size makes the text fit (fewer paragraphs are kept if even ``min_pt`` does not)."""
    paras = [p for p in paragraphs if p]
    size = fit_size(paras, width, height, max_pt, min_pt, bold=bold_first)
    while size is None and len(paras) > 1:  # never overflow: drop the last paragraphs
        paras = paras[:-1]
        size = fit_size(paras, width, height, max_pt, min_pt, bold=bold_first)
    if size is None:
        raise ValueError(f"text does not fit a {width}x{height} EMU box even at {min_pt} pt: {paras[0][:60]!r}")
    box = slide.shapes.add_textbox(left, top, width, height)
    _fill(box.text_frame, paras, size, bold_first=bold_first, colour=colour, align=align)
    return box


def _fill(tf: Any, paras: Sequence[str], size: float, *, bold_first: bool = False, colour: RGBColor = _DARK,
          align: Any = None) -> None:
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.NONE
    for i, text in enumerate(paras):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = text
        if align is not None:
            p.alignment = align
        for run in p.runs:
            run.font.size = Pt(size)
            run.font.color.rgb = colour
            run.font.bold = bold_first and i == 0


# --- the presentation -------------------------------------------------------------------------------


def _layout(prs: Any, want_title: bool) -> Any:
    """The template layout with a title and the fewest other placeholders (or with none at all)."""
    def score(lay: Any) -> tuple[int, int]:
        types = [ph.placeholder_format.type for ph in lay.placeholders]
        has_title = any(str(tp).startswith("TITLE") or "CENTER_TITLE" in str(tp) for tp in types)
        return (0 if has_title == want_title else 1, len(types))
    return min(prs.slide_layouts, key=score)


def _open(template: Path | None) -> Any:
    if template is None:
        prs = Presentation()
        prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
        return prs
    try:
        prs = Presentation(str(template))
    except Exception as exc:  # python-pptx raises several kinds for a file that is not a deck
        raise ConfigError(str(template), "client.branding.pptx_template", f"not a readable .pptx file: {exc}") from None
    ids = prs.slides._sldIdLst  # the template's own slides go; its masters and layouts stay
    for sld in list(ids):
        prs.part.drop_rel(sld.rId)
        ids.remove(sld)
    return prs


def _title(slide: Any, prs: Any, text: str) -> None:
    """The slide's takeaway title: the layout's title placeholder when it has one, else a text box."""
    width = prs.slide_width - 2 * _MARGIN
    ph = slide.shapes.title
    if ph is not None:
        ph.left, ph.top, ph.width, ph.height = _MARGIN, Inches(0.3), width, _TITLE_H
        size = fit_size([text], width, _TITLE_H, 28, 16) or 16
        ph.text_frame.text = text
        _fill(ph.text_frame, [text], size, align=PP_ALIGN.LEFT)
        return
    _text_box(slide, _MARGIN, Inches(0.3), width, _TITLE_H, [text], 28, 16)


def _content_slide(prs: Any, title: str) -> Any:
    slide = prs.slides.add_slide(_layout(prs, True))
    for ph in list(slide.placeholders):  # keep only the title placeholder
        if ph.placeholder_format.idx != 0:
            ph._element.getparent().remove(ph._element)
    _title(slide, prs, title)
    return slide


def _picture(slide: Any, prs: Any, fig: Any, top: int | None = None) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    buf.seek(0)
    from PIL import Image

    with Image.open(io.BytesIO(buf.getvalue())) as im:
        w_px, h_px = im.size
    top = top if top is not None else _MARGIN + _TITLE_H
    box_w, box_h = prs.slide_width - 2 * _MARGIN, prs.slide_height - top - _MARGIN
    scale = min(box_w / w_px, box_h / h_px)
    w, h = int(w_px * scale), int(h_px * scale)
    slide.shapes.add_picture(buf, int((prs.slide_width - w) / 2), top, w, h)


def _table(slide: Any, prs: Any, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
           top: int | None = None, max_pt: float = 14, min_pt: float = 10) -> None:
    """A table whose font size makes every cell's text and the whole table fit the slide below ``top``."""
    top = top if top is not None else _MARGIN + _TITLE_H
    total_w = prs.slide_width - 2 * _MARGIN
    avail_h = prs.slide_height - top - _MARGIN
    col_w = [int(total_w * w / sum(widths)) for w in widths]
    size = max_pt
    while True:
        heights = [_row_height([*r], col_w, size, bold=i == 0) for i, r in enumerate([header, *rows])]
        whole = all(_row_height([*r], col_w, size, bold=i == 0, allow_break=False) < _BROKEN
                    for i, r in enumerate([header, *rows]))
        if (sum(heights) <= avail_h and whole) or size <= min_pt:
            break
        size -= 0.5
    if sum(heights) > avail_h:
        raise ValueError("table does not fit the slide: split the rows")
    shape = slide.shapes.add_table(len(rows) + 1, len(header), _MARGIN, top, total_w, sum(heights))
    table = shape.table
    for j, w in enumerate(col_w):
        table.columns[j].width = w
    for i, (r, h) in enumerate(zip([header, *rows], heights, strict=True)):
        table.rows[i].height = h
        for j, text in enumerate(r):
            cell = table.cell(i, j)
            cell.margin_left = cell.margin_right = _INSET
            cell.margin_top = cell.margin_bottom = _INSET_V
            _fill(cell.text_frame, [str(text)], size, bold_first=i == 0)


def _row_height(cells: Sequence[str], col_w: Sequence[int], size: float, bold: bool = False,
                allow_break: bool = True) -> int:
    em = GLYPH_EM * (BOLD_WIDER if bold else 1.0)
    lines = max(estimate_lines([str(c)], (w - 2 * _INSET) / _EMU_PER_PT, size, em, allow_break)
                for c, w in zip(cells, col_w, strict=True))
    if lines >= _BROKEN:
        return _BROKEN
    return int(lines * size * LINE_SPACING * _EMU_PER_PT + 2 * _INSET_V) + 1


def _chunks(rows: list[Any], header: Sequence[str], widths: Sequence[float], prs: Any, size: float,
            min_pt: float) -> list[list[Any]]:
    """All rows on one slide if some font size down to ``min_pt`` fits them; else pieces whose
    estimated height at ``size`` fits a slide under the title."""
    total_w = prs.slide_width - 2 * _MARGIN
    col_w = [int(total_w * w / sum(widths)) for w in widths]
    avail = prs.slide_height - _MARGIN - _TITLE_H - _MARGIN
    s = size
    while s >= min_pt:
        if _row_height(header, col_w, s, True) + sum(_row_height(r, col_w, s) for r in rows) <= avail:
            return [list(rows)]
        s -= 0.5
    out: list[list[Any]] = [[]]
    used = _row_height(header, col_w, size, True)
    for r in rows:
        h = _row_height(r, col_w, size)
        if out[-1] and used + h > avail:
            out.append([])
            used = _row_height(header, col_w, size, True)
        out[-1].append(r)
        used += h
    return out


# --- content ------------------------------------------------------------------------------------------


def _money(x: float | None, lang: str, cur: str) -> str:
    if x is None:
        return "–"
    return f"{fmt_num(x, lang, 0)}\u00a0{cur}" if cur else fmt_num(x, lang, 0)


def _headline_metrics(tg: Any, lang: str) -> list[tuple[str, str, str]]:
    """(label, value, "95% interval …; n = …") of NPS, CSAT, churn and revenue at risk, as the run has them."""
    from .recommend import _revenue_label, churn_label

    def small(ci: str | None, n: int | None) -> str:
        parts = ([f"{t('tobe.ci95', lang)} {ci}"] if ci else []) + ([f"n\u00a0=\u00a0{fmt_num(n, lang, 0)}"] if n else [])
        return "; ".join(parts)

    out = []
    if tg.nps_as_is is not None:
        out.append((t("tobe.target.nps", lang), fmt_num(tg.nps_as_is, lang, 1, sign=True),
                    small(fmt_ci(tg.nps_ci[0], tg.nps_ci[1], lang, 1) if tg.nps_ci else None, tg.nps_n)))
    if tg.csat_as_is is not None:
        out.append((t("tobe.target.csat", lang), fmt_pct(tg.csat_as_is / 100, lang, 1),
                    small(fmt_ci(tg.csat_ci[0], tg.csat_ci[1], lang, 1) if tg.csat_ci else None, tg.csat_n)))
    if tg.churn_as_is is not None:
        out.append((churn_label(tg, lang), fmt_pct(tg.churn_as_is, lang, 1),
                    small(fmt_ci(tg.churn_ci[0], tg.churn_ci[1], lang, 1, 100.0) if tg.churn_ci else None, tg.churn_n)))
    if tg.revenue_at_risk is not None:
        ci = tg.revenue_at_risk_ci
        out.append((_revenue_label(tg, lang), _money(tg.revenue_at_risk, lang, tg.currency),
                    small(fmt_ci(ci[0], ci[1], lang, 0) if ci else None, tg.revenue_n)))
    return out


def _nps_target(tg: Any) -> float | None:
    c = (tg.checks or {}).get("nps")
    return c["target"] if c else tg.nps_to_be


def _action_line(r: Any, lang: str) -> str:
    from .recommend import impact_text

    parts = [impact_text(r, lang)]
    if r.scenarios.get("expected", {}).get("value") is not None:
        parts.append(f"{t('deck.col_value', lang)}: {_money(r.scenarios['expected']['value'], lang, r.currency)}")
    if r.cost is not None:
        parts.append(f"{t('bc.col_cost', lang)}: {_money(r.cost, lang, r.currency)}")
    if r.owner or r.due:
        parts.append(t("deck.owner_due", lang, owner=r.owner or "–", due=fmt_date(r.due, lang) if r.due else "–"))
    return f"{r.label(lang)}  {r.title(lang)} — " + "; ".join(parts)


def build_deck(run_dir: str | Path, lang: str, *, client_name: str, report_date: Any = None,
               template: str | Path | None = None, out: str | Path | None = None) -> Path:
    """Write ``report.pptx`` for a finished run (``tobe.json`` and ``findings/`` in ``run_dir``).

    Parameters
    ----------
    template : path, optional
        The client's .pptx (``client.branding.pptx_template``, already resolved inside the client
        folder); its master and layouts are used, its slides dropped.

    Returns
    -------
    Path
        The deck written (``<run_dir>/report.pptx`` unless ``out`` is given).
    """
    from . import recommend as rc
    from .business_case import BusinessCase, business_case_table
    from .findings import format_value, ranked, read_findings

    run_dir = Path(run_dir)
    tobe = rc.read_tobe(run_dir)
    if tobe is None or tobe.get("targets") is None:
        raise CxauditError(f"{run_dir}: no {rc.TOBE_FILE} with targets, so no deck; the TO-BE section did not run")
    recs, tg = tobe["recommendations"], tobe["targets"]
    on_plan = [r for r in recs if r.on_plan]
    case_d = (tobe.get("methodology") or {}).get("business_case")
    case = BusinessCase(**case_d) if case_d else None
    findings = ranked(read_findings(run_dir))
    prs = _open(Path(template) if template else None)
    W = prs.slide_width

    # 1 title
    slide = prs.slides.add_slide(_layout(prs, True))
    for ph in list(slide.placeholders):
        if ph.placeholder_format.idx != 0:
            ph._element.getparent().remove(ph._element)
    _title(slide, prs, t("report.title", lang))
    sub = [client_name, t("report.subtitle", lang)] + ([fmt_date(report_date, lang)] if report_date is not None else [])
    _text_box(slide, _MARGIN, Inches(2.2), W - 2 * _MARGIN, Inches(2.0), sub, 32, 14, bold_first=True)

    # 2 executive summary: metrics, the answer, three actions
    nps_to = _nps_target(tg)
    title = (t("deck.summary_title", lang, nps=fmt_num(tg.nps_as_is, lang, 1, sign=True),
               to_be=fmt_num(nps_to, lang, 1, sign=True))
             if tg.nps_as_is is not None and nps_to is not None else t("deck.summary", lang))
    slide = _content_slide(prs, title)
    metrics = _headline_metrics(tg, lang)
    top = _MARGIN + _TITLE_H
    if metrics:
        gap = Inches(0.2)
        box_w = int((W - 2 * _MARGIN - gap * (len(metrics) - 1)) / len(metrics))
        for i, (label, value, small) in enumerate(metrics):
            left = _MARGIN + i * (box_w + gap)
            _text_box(slide, left, top, box_w, Inches(0.5), [label], 16, 10, colour=_GREY)
            _text_box(slide, left, top + Inches(0.5), box_w, Inches(0.7), [value], 32, 14, bold_first=True)
            _text_box(slide, left, top + Inches(1.2), box_w, Inches(0.6), [small], 11, 8, colour=_GREY)
        top += Inches(2.0)
    answer = [t("tobe.summary_revenue_kept", lang, amount=_money(tg.revenue_kept, lang, tg.currency))] \
        if tg.revenue_kept is not None else []
    if case is not None and case.total_cost:
        answer = [t("deck.business_case_title", lang, value=_money(case.total_value, lang, case.currency),
                    cost=_money(case.total_cost, lang, case.currency),
                    payback=_months(case.payback_months, lang))
                  if case.payback_months is not None else
                  t("deck.business_case_title_nopayback", lang, value=_money(case.total_value, lang, case.currency),
                    cost=_money(case.total_cost, lang, case.currency))]
    if answer:
        _text_box(slide, _MARGIN, top, W - 2 * _MARGIN, Inches(0.7), answer, 20, 12, bold_first=True)
        top += Inches(0.8)
    actions = [t("deck.actions", lang)] + [_action_line(r, lang) for r in on_plan[:3]]
    _text_box(slide, _MARGIN, top, W - 2 * _MARGIN, prs.slide_height - top - _MARGIN, actions, 16, 10,
              bold_first=True)

    # 3 key findings, ranked as the executive summary ranks them (effect on customers and money; an
    # internal finding under the customer problem it explains); the title is the first one: the takeaway
    from .summary import key_findings

    keys = [k.finding for k in key_findings(findings, top=5)][:6] or findings[:6]
    if keys:
        header = [t("report.col_finding", lang), t("report.col_value", lang), t("metrics.col_n", lang)]
        rows = [[f.title, format_value(f, lang)[0], fmt_num(f.n, lang, 0)] for f in keys]
        slide = _content_slide(prs, keys[0].title)
        _table(slide, prs, header, rows, (6, 1.4, 1))

    # 4 targets
    if tg.nps_as_is is not None or tg.churn_as_is is not None:
        slide = _content_slide(prs, title)
        _picture(slide, prs, rc.targets_chart(tg, lang))

    # 5 recommendations on the plan (a table, split across slides when long)
    if on_plan:
        header = [t("tobe.col_rec", lang), t("tobe.col_title", lang), rc.impact_header(recs, lang),
                  t("deck.col_value", lang), t("bc.col_cost", lang), t("bc.col_owner", lang), t("bc.col_due", lang)]
        rows = [[r.label(lang), r.title(lang), rc.impact_text(r, lang),
                 _money(r.scenarios.get("expected", {}).get("value"), lang, r.currency),
                 _money(r.cost, lang, r.currency), r.owner or "–", fmt_date(r.due, lang) if r.due else "–"]
                for r in on_plan]
        widths = (0.6, 4.1, 1.7, 1.5, 1.3, 1.8, 1.6)
        pieces = _chunks(rows, header, widths, prs, 12, 9)
        rtitle = t("deck.recs_title", lang, n=len(on_plan), first=on_plan[0].title(lang))
        for piece in pieces:
            slide = _content_slide(prs, rtitle)
            _table(slide, prs, header, piece, widths, max_pt=12, min_pt=9)
        slide = _content_slide(prs, t("tobe.matrix", lang))
        _picture(slide, prs, rc.impact_effort_chart(recs, lang, (tobe.get("methodology") or {}).get("assumptions")))
        slide = _content_slide(prs, t("deck.roadmap_title", lang))
        _picture(slide, prs, rc.roadmap_chart(on_plan, lang))

    # 8 business case
    if case is not None and case.rows:
        tab = business_case_table(case, recs, lang)
        header = [t("tobe.col_rec", lang), t("tobe.col_title", lang), rc.impact_header(recs, lang),
                  t("bc.col_value", lang), t("bc.col_cost", lang), t("bc.col_roi", lang), t("bc.col_payback", lang)]
        rows = tab[["rec", "title", "impact", "value", "cost", "roi", "payback"]].astype(str).values.tolist()
        btitle = (t("deck.business_case_title", lang, value=_money(case.total_value, lang, case.currency),
                    cost=_money(case.total_cost, lang, case.currency), payback=_months(case.payback_months, lang))
                  if case.payback_months is not None and case.total_value is not None else
                  t("deck.business_case_title_nopayback", lang, value=_money(case.total_value, lang, case.currency),
                    cost=_money(case.total_cost, lang, case.currency)))
        widths = (0.6, 4.3, 1.5, 1.6, 1.5, 1.0, 1.3)
        for piece in _chunks(rows, header, widths, prs, 11, 8):
            slide = _content_slide(prs, btitle)
            _table(slide, prs, header, piece, widths, max_pt=11, min_pt=8)
    path = Path(out) if out is not None else run_dir / DECK_FILE
    prs.save(str(path))
    return path


def _months(x: float | None, lang: str) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{fmt_num(x, lang, 0)}\u00a0{t('bc.unit.months', lang)}"


def write_deliverables(run_dir: str | Path, context: dict[str, Any], formats: Sequence[str],
                       client_dir: Path | None, branding: Any = None) -> dict[str, Path]:
    """What every run writes besides the report: ``tables.xlsx`` always, ``report.pptx`` when
    ``formats`` has ``pptx`` (with the client's ``branding.pptx_template``, resolved inside the
    client folder). ``context`` is the run manifest's ``report_context``. Returns ``{"xlsx": …, "pptx": …}``."""
    import datetime as dt

    from .paths import client_file
    from .tables_export import write_tables

    run_dir = Path(run_dir)
    tables = write_tables(run_dir, context["lang"])
    out = {"xlsx": tables} if tables is not None else {}
    if "pptx" in formats:
        name = getattr(branding, "pptx_template", None) if branding is not None else None
        template = None
        if name and client_dir is not None:
            template = client_file(client_dir, name, file=str(client_dir / "audit.yaml"),
                                   key="client.branding.pptx_template")
            if not template.is_file():
                raise ConfigError(str(client_dir / "audit.yaml"), "client.branding.pptx_template",
                                  f"file {name!r} not found in {client_dir}")
        out["pptx"] = build_deck(run_dir, context["lang"], client_name=context["client_name"],
                                 report_date=dt.date.fromisoformat(context["report_date"]), template=template)
    return out


# --- public wrappers: the same slide machinery for other decks (cxaudit.track's tracking deck) ---------

#: Slide margin and the height of a slide's title, in EMU.
MARGIN, TITLE_H = _MARGIN, _TITLE_H


def open_deck(template: Path | None = None) -> Any:
    """A new presentation: the client template's master and layouts, or python-pptx's default at 16:9."""
    return _open(template)


def content_slide(prs: Any, title: str) -> Any:
    """A slide with only its takeaway title (fitted to the title box)."""
    return _content_slide(prs, title)


def text_box(slide: Any, left: int, top: int, width: int, height: int, paragraphs: Sequence[str],
             max_pt: float = 18, min_pt: float = 9, *, bold_first: bool = False) -> Any:
    """A text box whose font size makes ``paragraphs`` fit (:func:`fit_size`)."""
    return _text_box(slide, left, top, width, height, paragraphs, max_pt, min_pt, bold_first=bold_first)


def table(slide: Any, prs: Any, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
          top: int | None = None, max_pt: float = 14, min_pt: float = 10) -> None:
    """A table sized to fit the slide below ``top`` (raises ValueError when it cannot: see :func:`split_rows`)."""
    _table(slide, prs, header, rows, widths, top, max_pt, min_pt)


def split_rows(rows: list[Any], header: Sequence[str], widths: Sequence[float], prs: Any, size: float = 12,
               min_pt: float = 10) -> list[list[Any]]:
    """``rows`` in pieces that each fit one slide under the title."""
    return _chunks(rows, header, widths, prs, size, min_pt)
