"""The touchpoint survey kit: questionnaires for every touchpoint of the TO-BE measurement plan, and how
many answers a wave needs to see the target change.

For each touchpoint the plan measures (the touchpoints its recommendations name, in rank order; every
touchpoint of the client when none does) the questionnaire asks, in English, Russian and Polish:

1. the outcome question, likelihood to recommend on 0–10 (NPS; Reichheld 2003);
2. satisfaction with the touchpoint on the client's CSAT scale (top-box share);
3. effort: "<company> made it easy for me to …" on 1–7 (CES 2.0; Dixon, Toman & DeLisi 2013);
4. the touchpoint's own items: its rating on the client's touchpoint scale and, when the codeframe links
   complaint themes to it, "what went wrong" (select multiple) with those themes;
5. a reason question (open text), asked of everybody.

Outputs (:func:`write_kit`, in ``run_dir/survey_kit/``): one XLSForm per touchpoint
(``<touchpoint>.xlsx``: sheets ``survey``, ``choices``, ``settings``; labels in ``label::English (en)``,
``label::Russian (ru)``, ``label::Polish (pl)``; ODK / KoboToolbox, XLSForm spec https://xlsform.org),
a printable HTML file per language (``questionnaires_<lang>.html``) and ``sample_sizes.csv``.
No LimeSurvey or Qualtrics file is written: their import formats could not be checked here.

Sample sizes (:func:`sample_size_plan`): answers per wave, independent samples in two waves, two-sided
α = 0.05, power 0.80.

- touchpoint rating (the plan's target): Student t for two independent means, effect size
  d = (target − baseline) / SD, solved with statsmodels ``TTestIndPower`` (Cohen 1988, ch. 2; the tests
  check G*Power's n = 26, 64 and 394 per group for d = 0.8, 0.5 and 0.2, and pingouin ``power_ttest``);
- NPS: n = (z₁₋α/₂ + z₁₋β)² · (v₀ + v₁) / Δ² per wave with the NPS variance v = (p + d) − (p − d)² of the
  baseline (v₁ = v₀), the normal approximation of the NPS z-test (R package ``NPS``, ``nps.test``); the
  plan's NPS gain is the detectable difference shown, Δ = minimum detectable change at the rating's n;
- a share (CSAT top box): statsmodels ``NormalIndPower`` with Cohen's h (arcsine) effect size.

Answers needed are divided by the touchpoint's usage share in the baseline (the share of respondents who
rated it) to give how many customers to invite when the questions are asked of all respondents.
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .i18n import LANGUAGES, fmt_int, fmt_num, t

__all__ = ["ALPHA", "POWER", "KitTouchpoint", "plan_touchpoints", "questionnaire", "xlsform_rows", "write_xlsform",
           "printable_html", "n_means", "n_nps", "n_share", "nps_mde", "sample_size_plan", "write_kit", "KIT_DIR",
           "blocks_survey"]

ALPHA = 0.05
POWER = 0.80
KIT_DIR = "survey_kit"
_LANG_NAMES = {"en": "English (en)", "ru": "Russian (ru)", "pl": "Polish (pl)"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class KitTouchpoint:
    """A touchpoint the kit covers: id (the response column), client label, stage, baseline numbers."""

    touchpoint: str
    label: str
    stage: str = ""
    n: int = 0
    usage: float | None = None
    mean: float | None = None
    sd: float | None = None
    target: float | None = None
    themes: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (key, label per language)


# --- which touchpoints --------------------------------------------------------------------------------


def plan_touchpoints(recs: Sequence[Any], audit: Any, journey: pd.DataFrame | None = None,
                     codeframe: Any = None) -> list[KitTouchpoint]:
    """The touchpoints of the measurement plan (recommendations' ``touchpoints`` tags, rank order; all the
    client's touchpoints when no recommendation names one), with their baseline rating, usage and target."""
    tp_table = audit.tables.get("touchpoints") if hasattr(audit, "tables") else None
    labels: dict[str, tuple[str, str]] = {}
    if tp_table is not None and len(tp_table):
        for _, r in tp_table.iterrows():
            lab = r.get("label")
            labels[str(r["touchpoint"])] = (str(lab) if isinstance(lab, str) and lab.strip() else str(r["touchpoint"]),
                                            str(r.get("stage", "")))
    order: list[str] = []
    for rec in sorted(recs, key=lambda r: r.rank):
        for tp in (rec.tags or {}).get("touchpoints", []):
            if tp not in order:
                order.append(tp)
    if not order:
        order = list(labels) or [c for c in audit.touchpoint_columns]
    resp = audit.responses if audit.has("responses") else pd.DataFrame()
    out = []
    for tp in order:
        col = tp if tp in resp.columns else f"tp_{tp}" if f"tp_{tp}" in resp.columns else None
        k = KitTouchpoint(tp, labels.get(tp, (tp, ""))[0], labels.get(tp, (tp, ""))[1])
        if col is not None and len(resp):
            x = pd.to_numeric(resp[col], errors="coerce").dropna()
            k.n, k.usage = int(len(x)), float(len(x) / len(resp))
            if len(x) > 1:
                k.mean, k.sd = float(x.mean()), float(x.std(ddof=1))
        if journey is not None and len(journey):
            hit = journey[journey["touchpoint"] == tp]
            if len(hit) and pd.notna(hit["target"].iloc[0]) and k.mean is not None \
                    and abs(float(hit["target"].iloc[0]) - k.mean) > 1e-9:
                k.target = float(hit["target"].iloc[0])
        if codeframe is not None and tp_table is not None:
            from .text import theme_touchpoints

            for th in codeframe.themes:
                if th.polarity == "complaint" and tp in theme_touchpoints(th, tp_table):
                    k.themes.append((th.key, {lg: th.label.get(lg) or th.label.get("en") or th.key for lg in LANGUAGES}))
        out.append(k)
    return out


# --- questionnaires -----------------------------------------------------------------------------------


def _xml_name(s: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", s)
    return name if re.match(r"[A-Za-z_]", name) else f"q_{name}"


def questionnaire(tp: KitTouchpoint, company: dict[str, str], scales: Any) -> list[dict[str, Any]]:
    """The questions of one touchpoint: ``{name, type, labels{lang}, choices, required, kind}`` in order."""
    def lab(key: str, **kw: Any) -> dict[str, str]:
        return {lg: t(key, lg, company=company[lg], touchpoint=tp.label, **kw) for lg in LANGUAGES}

    cs, ts = scales.csat, scales.touchpoint
    qs: list[dict[str, Any]] = [
        {"name": "nps", "kind": "nps", "type": "select_one nps", "labels": lab("survey.q_nps"), "required": True,
         "choices": ("nps", [(str(i), {lg: str(i) for lg in LANGUAGES}) for i in range(11)])},
        {"name": "csat", "kind": "csat", "type": f"select_one csat{cs.max}", "labels": lab("survey.q_csat"),
         "required": True,
         "choices": (f"csat{cs.max}", [(str(i), _scale_label(i, cs.min, cs.max, "survey.sat_low", "survey.sat_high"))
                                       for i in range(cs.min, cs.max + 1)])},
        {"name": "ces", "kind": "ces", "type": "select_one ces7", "labels": lab("survey.q_ces"), "required": True,
         "choices": ("ces7", [(str(i), _scale_label(i, 1, 7, "survey.agree_low", "survey.agree_high"))
                              for i in range(1, 8)])},
        {"name": _xml_name(tp.touchpoint), "kind": "rating", "type": f"select_one tp{ts.max}",
         "labels": lab("survey.q_rating"), "required": False,
         "choices": (f"tp{ts.max}", [(str(i), _scale_label(i, ts.min, ts.max, "survey.rate_low", "survey.rate_high"))
                                     for i in range(ts.min, ts.max + 1)])},
    ]
    if tp.themes:
        qs.append({"name": "problems", "kind": "problems", "type": f"select_multiple problems_{_xml_name(tp.touchpoint)}",
                   "labels": lab("survey.q_problems"), "required": False,
                   "choices": (f"problems_{_xml_name(tp.touchpoint)}",
                               [(_xml_name(k), lbl) for k, lbl in tp.themes]
                               + [("none", {lg: t("survey.problem_none", lg) for lg in LANGUAGES})])})
    qs.append({"name": "reason", "kind": "reason", "type": "text", "labels": lab("survey.q_reason"), "required": False,
               "choices": None})
    return qs


def _scale_label(i: int, lo: int, hi: int, low_key: str, high_key: str) -> dict[str, str]:
    out = {}
    for lg in LANGUAGES:
        if i == lo:
            out[lg] = f"{i} – {t(low_key, lg)}"
        elif i == hi:
            out[lg] = f"{i} – {t(high_key, lg)}"
        else:
            out[lg] = str(i)
    return out


def _safe(v: Any) -> Any:
    """A spreadsheet cell that cannot start a formula (OWASP CSV injection): a leading apostrophe."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def xlsform_rows(tp: KitTouchpoint, questions: list[dict[str, Any]], default_lang: str
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(survey, choices, settings) rows of the XLSForm of one touchpoint, labels in all three languages."""
    survey: list[dict[str, Any]] = [{"type": "note", "name": "intro",
                                     **{f"label::{_LANG_NAMES[lg]}": t("survey.intro", lg, touchpoint=tp.label)
                                        for lg in LANGUAGES}, "required": ""}]
    choices: list[dict[str, Any]] = []
    seen: set[str] = set()
    for q in questions:
        survey.append({"type": q["type"], "name": q["name"],
                       **{f"label::{_LANG_NAMES[lg]}": q["labels"][lg] for lg in LANGUAGES},
                       "required": "yes" if q["required"] else ""})
        if q["choices"] and q["choices"][0] not in seen:
            seen.add(q["choices"][0])
            for name, labels in q["choices"][1]:
                choices.append({"list_name": q["choices"][0], "name": name,
                                **{f"label::{_LANG_NAMES[lg]}": labels[lg] for lg in LANGUAGES}})
    settings = [{"form_title": t("survey.form_title", default_lang, touchpoint=tp.label),
                 "form_id": f"cx_{_xml_name(tp.touchpoint)}", "version": "1",
                 "default_language": _LANG_NAMES[default_lang]}]
    return survey, choices, settings


def write_xlsform(path: Path, rows: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]) -> Path:
    """Write an XLSForm workbook (sheets ``survey``, ``choices``, ``settings``) with openpyxl."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, data in zip(("survey", "choices", "settings"), rows, strict=True):
        ws = wb.create_sheet(title)
        cols: list[str] = []
        for r in data:
            cols += [c for c in r if c not in cols]
        ws.append(cols)
        for r in data:
            ws.append([_safe(r.get(c, "")) for c in cols])
    wb.save(path)
    return path


def printable_html(items: Sequence[tuple[KitTouchpoint, list[dict[str, Any]]]], lang: str, company: str) -> str:
    """A printable questionnaire per touchpoint in ``lang`` (one page each; boxes to tick, lines to write)."""
    esc = _html.escape
    parts = [f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
             f"<title>{esc(t('survey.print_title', lang, company=company))}</title><style>",
             "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:11pt;color:#1b1b1b;margin:2cm}",
             "section{page-break-after:always}h1{font-size:16pt}h2{font-size:13pt;margin-top:1.2em}",
             ".q{margin:1em 0}.opts{display:flex;flex-wrap:wrap;gap:.6em;margin-top:.3em}",
             ".opt{border:1px solid #777;padding:.15em .5em;border-radius:3px;font-size:10pt}",
             ".line{border-bottom:1px solid #777;height:1.6em}.note{color:#555;font-size:9.5pt}",
             "</style></head><body>"]
    for tp, qs in items:
        parts.append(f"<section><h1>{esc(t('survey.form_title', lang, touchpoint=tp.label))}</h1>")
        parts.append(f'<p class="note">{esc(t("survey.intro", lang, touchpoint=tp.label))}</p>')
        for i, q in enumerate(qs, 1):
            parts.append(f'<div class="q"><b>{i}. {esc(q["labels"][lang])}</b>')
            if q["choices"]:
                box = "☐" if q["type"].startswith("select_multiple") else "○"
                opts = "".join(f'<span class="opt">{box} {esc(lbl[lang])}</span>' for _, lbl in q["choices"][1])
                parts.append(f'<div class="opts">{opts}</div>')
            else:
                parts.append('<div class="line"></div><div class="line"></div>')
            parts.append("</div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


# --- sample sizes -------------------------------------------------------------------------------------


def n_means(diff: float, sd: float, *, alpha: float = ALPHA, power: float = POWER) -> int:
    """Answers per wave to detect a change ``diff`` of a mean with standard deviation ``sd`` (two
    independent samples, two-sided t-test; statsmodels ``TTestIndPower``), rounded up."""
    from statsmodels.stats.power import TTestIndPower

    if diff == 0 or not np.isfinite(diff) or not sd or not np.isfinite(sd):
        raise ValueError(f"sample size of a mean: need a non-zero change and SD, got diff={diff}, sd={sd}")
    n = TTestIndPower().solve_power(effect_size=abs(diff) / sd, alpha=alpha, power=power, ratio=1.0,
                                    alternative="two-sided")
    return int(math.ceil(float(n)))


def n_share(p0: float, p1: float, *, alpha: float = ALPHA, power: float = POWER) -> int:
    """Answers per wave to detect a share moving from ``p0`` to ``p1`` (Cohen's h, statsmodels
    ``NormalIndPower``), rounded up."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(proportion_effectsize(p1, p0))
    if h == 0:
        raise ValueError("sample size of a share: the two shares are equal")
    return int(math.ceil(float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0))))


def _z(alpha: float, power: float) -> float:
    return float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))


def n_nps(promoters: float, detractors: float, diff_points: float, *, alpha: float = ALPHA,
          power: float = POWER) -> int:
    """Answers per wave to detect an NPS change of ``diff_points`` (module docstring), rounded up."""
    v = (promoters + detractors) - (promoters - detractors) ** 2
    if diff_points == 0:
        raise ValueError("sample size of NPS: the change is zero")
    return int(math.ceil(_z(alpha, power) ** 2 * 2 * v / (diff_points / 100) ** 2))


def nps_mde(promoters: float, detractors: float, n: int, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest NPS change (points) ``n`` answers per wave detect with ``power``."""
    v = (promoters + detractors) - (promoters - detractors) ** 2
    return 100 * _z(alpha, power) * math.sqrt(2 * v / n)


def sample_size_plan(tps: Sequence[KitTouchpoint], responses: pd.DataFrame, *, min_change: float = 0.2) -> pd.DataFrame:
    """Per touchpoint: ``touchpoint, label, baseline, sd, target, change, n_per_wave, usage, invite_per_wave,
    n_baseline, nps_mde, target_source``. Without a plan target the change is ``min_change`` points of the
    rating (``target_source = "minimum"``)."""
    p = d = None
    if "nps" in responses.columns:
        x = pd.to_numeric(responses["nps"], errors="coerce").dropna()
        if len(x):
            p, d = float((x >= 9).mean()), float((x <= 6).mean())
    rows = []
    for k in tps:
        if k.mean is None or not k.sd:
            rows.append({"touchpoint": k.touchpoint, "label": k.label, "baseline": None, "sd": None, "target": None,
                         "change": None, "n_per_wave": None, "usage": k.usage, "invite_per_wave": None,
                         "n_baseline": k.n, "nps_mde": None, "target_source": "no_baseline"})
            continue
        target, source = (k.target, "plan") if k.target is not None else (k.mean + min_change, "minimum")
        n = n_means(target - k.mean, k.sd)
        rows.append({"touchpoint": k.touchpoint, "label": k.label, "baseline": k.mean, "sd": k.sd, "target": target,
                     "change": target - k.mean, "n_per_wave": n, "usage": k.usage,
                     "invite_per_wave": int(math.ceil(n / k.usage)) if k.usage else None, "n_baseline": k.n,
                     "nps_mde": nps_mde(p, d, n) if p is not None and d is not None else None,
                     "target_source": source})
    return pd.DataFrame(rows)


# --- the kit ------------------------------------------------------------------------------------------


@dataclass
class Kit:
    folder: Path
    touchpoints: list[KitTouchpoint]
    files: list[Path]
    sizes: pd.DataFrame


def _company(audit: Any) -> dict[str, str]:
    name = audit.name
    return {lg: name for lg in LANGUAGES}


def write_kit(audit: Any, run_dir: Path, recs: Sequence[Any] = (), findings: Sequence[Any] = ()) -> Kit:
    """Write the survey kit of a run into ``run_dir/survey_kit/`` (module docstring) and return it."""
    from .recommend import journey_map, rulebook
    from .text import default_codeframe, load_codeframe

    folder = Path(run_dir) / KIT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    cf_file = Path(audit.dir) / "codeframe.yaml"
    codeframe = load_codeframe(cf_file) if cf_file.is_file() else default_codeframe()
    jm = None
    if recs and audit.has("responses"):
        book = rulebook(audit.dir, audit.config)
        jm = journey_map(list(recs), list(findings), touchpoints=audit.tables.get("touchpoints"),
                         ratings=audit.responses, lang=audit.language, assumptions=book.assumptions)
    tps = plan_touchpoints(recs, audit, jm, codeframe)
    company = _company(audit)
    files: list[Path] = []
    items = []
    for k in tps:
        qs = questionnaire(k, company, audit.config.scales)
        items.append((k, qs))
        files.append(write_xlsform(folder / f"{_xml_name(k.touchpoint)}.xlsx", xlsform_rows(k, qs, audit.language)))
    for lg in LANGUAGES:
        p = folder / f"questionnaires_{lg}.html"
        p.write_text(printable_html(items, lg, company[lg]), encoding="utf-8")
        files.append(p)
    sizes = sample_size_plan(tps, audit.responses if audit.has("responses") else pd.DataFrame())
    from .export import write_csv  # formula-safe cells (OWASP CSV injection)

    write_csv(sizes, folder / "sample_sizes.csv", index=False)
    files.append(folder / "sample_sizes.csv")
    return Kit(folder, tps, files, sizes)


def blocks_survey(kit: Kit, lang: str) -> list[Any]:
    """Display blocks of the measurement section: what the kit holds and the sample-size plan."""
    from IPython.display import HTML

    from .show import escape, heading, paragraph

    out: list[Any] = [heading(t("survey.h_kit", lang), "measure"),
                      paragraph(t("survey.kit_text", lang, n=len(kit.touchpoints)))]
    rows = []
    for _, r in kit.sizes.iterrows():
        if r["n_per_wave"] is None or pd.isna(r["n_per_wave"]):
            rows.append([r["label"], "–", "–", "–", "–", "–"])
            continue
        rows.append([r["label"], f"{fmt_num(r['baseline'], lang, 2)} → {fmt_num(r['target'], lang, 2)}",
                     fmt_int(r["n_per_wave"], lang),
                     f"{fmt_num(100 * r['usage'], lang, 0)} %" if r["usage"] else "–",
                     fmt_int(r["invite_per_wave"], lang) if r["invite_per_wave"] else "–",
                     fmt_num(r["nps_mde"], lang, 1) if r["nps_mde"] is not None and pd.notna(r["nps_mde"]) else "–"])
    head = [t("survey.col_touchpoint", lang), t("survey.col_change", lang), t("survey.col_n", lang),
            t("survey.col_usage", lang), t("survey.col_invite", lang), t("survey.col_mde", lang)]
    th = "".join(f'<th class="{"cx-txt" if i < 2 else "cx-num"}">{escape(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="{"cx-txt" if i < 2 else "cx-num"}">{escape(c)}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    out += [heading(t("survey.h_sizes", lang), "measure"),
            HTML(f'<table class="cx-table"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'),
            HTML(f'<p class="cx-note">{escape(t("survey.sizes_note", lang))}</p>')]
    return out
