"""Survey kit and closed loop: XLSForms that pyxform converts in en / ru / pl, sample sizes against
published power tables and a simulation, the callback list's contact-data rule and formula safety."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cxaudit.audit import load_audit
from cxaudit.demo import generate_demo
from cxaudit.recommend import Recommendation
from cxaudit.survey_kit import n_means, n_nps, n_share, nps_mde, write_kit


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory):
    return load_audit(generate_demo(tmp_path_factory.mktemp("kit") / "demo", size="small"))


def _rec(rank: int, tp: str) -> Recommendation:
    return Recommendation(id=f"journey_key_driver:{tp}", rule="journey_key_driver", family="journey", findings=[],
                          evidence=[], texts={"en": {"title": tp, "action": ""}}, impact_nps=1.0, detractor_move=0.1,
                          impact_model="fixed", revenue=None, currency="USD", effort="low", horizon="3-6",
                          tags={"touchpoints": [tp]}, owner="", measure={"metric": "touchpoint_rating"}, rank=rank)


def test_xlsform_converts_in_all_three_languages(audit, tmp_path: Path) -> None:
    pyxform = pytest.importorskip("pyxform")
    from pyxform import xls2xform

    kit = write_kit(audit, tmp_path, [_rec(1, "tp_delivery"), _rec(2, "tp_support_call")])
    forms = [p for p in kit.files if p.suffix == ".xlsx"]
    assert [p.stem for p in forms] == ["tp_delivery", "tp_support_call"]
    for p in forms:
        result = xls2xform.convert(xlsform=str(p))
        xml = result.xform
        langs = set(re.findall(r'<translation (?:default="true\(\)" )?lang="([^"]+)"', xml))
        assert langs == {"English (en)", "Russian (ru)", "Polish (pl)"}, (p.name, langs, pyxform.__name__)
        assert "Насколько вероятно" in xml and "Jak bardzo prawdopodobne" in xml and "How likely" in xml
        for name in ("nps", "csat", "ces", "reason"):
            assert f'/{name}"' in xml or f"/{name}'" in xml or f"/{name}>" in xml, (p.name, name)
    # the codeframe links late delivery to home delivery: asked as "what went wrong"
    ws = load_workbook(forms[0])["choices"]
    names = [r[1] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert "late_delivery" in names and "none" in names
    for lang in ("en", "ru", "pl"):
        page = (kit.folder / f"questionnaires_{lang}.html").read_text(encoding="utf-8")
        assert page.count("<section>") == 2 and "http" not in page


def test_sample_sizes_match_cohens_tables_and_statsmodels() -> None:
    """G*Power 3.1 (Faul et al. 2007; t-test, two independent means, two-sided α = .05, power .80): n per
    group 26 for d = .8, 64 for d = .5, 394 for d = .2 (Cohen's 1988 Table 2.4.1 prints 26, 64 and 393, from a
    normal approximation). Shares: Cohen's Table 6.4.1 gives n = 392 for h = .2, the rounded 392.4 that
    ((z.975 + z.80) / h)² gives; rounded up, 393."""
    assert n_means(0.8, 1.0) == 26
    assert n_means(0.5, 1.0) == 64
    assert n_means(0.2, 1.0) == 394
    assert n_means(-0.25, 0.5) == 64  # the sign of the change does not matter; d = |Δ| / SD
    pg = pytest.importorskip("pingouin")
    assert n_means(0.3, 1.1) == int(np.ceil(pg.power_ttest(d=0.3 / 1.1, power=0.8, alpha=0.05)))
    # Cohen's h = 2 asin √p1 − 2 asin √p0 = 0.2 for 0.5 -> 0.5998...
    p1 = np.sin(np.arcsin(np.sqrt(0.5)) + 0.1) ** 2
    assert n_share(0.5, p1) == 393


def test_nps_sample_size_has_the_planned_power_by_simulation() -> None:
    """Simulate two waves of n_nps answers (promoters 40 % / detractors 30 %, then +10 NPS points): the
    NPS z-test rejects in about 80 % of 4,000 seeded replicates."""
    from cxaudit.stats import nps_z_test

    p0, d0 = 0.40, 0.30
    n = n_nps(p0, d0, 10.0)
    p1, d1 = 0.45, 0.25
    rng = np.random.default_rng(20261204)
    a = rng.multinomial(n, [p0, 1 - p0 - d0, d0], size=4000)
    b = rng.multinomial(n, [p1, 1 - p1 - d1, d1], size=4000)
    _, _, _, p = nps_z_test(b[:, 0] / n, b[:, 2] / n, n, a[:, 0] / n, a[:, 2] / n, n)
    power = float(np.mean(p < 0.05))
    assert 0.76 < power < 0.84, (n, power)
    assert nps_mde(p0, d0, n) == pytest.approx(10.0, rel=0.01)


def test_closed_loop_contact_columns_only_when_allowed(audit, tmp_path: Path) -> None:
    from cxaudit import closed_loop

    resp = audit.responses.copy()
    resp["email"] = "someone@example.com"
    resp["phone"] = "+1 415 555 0100"
    det = pd.to_numeric(resp["nps"], errors="coerce") <= 6
    first = resp.index[det][0]
    resp["comment"] = resp["comment"].astype(object)
    resp.loc[first, "comment"] = "=HYPERLINK(\"http://x\") late delivery, call me on +1 415 555 0199"
    cfg = audit.config.model_copy(update={"closed_loop": audit.config.closed_loop.model_copy(
        update={"contact_columns": ["email"]})})
    a = type(audit)(audit.dir, cfg, {**audit.tables, "responses": resp}, audit.log, audit.rows_in, audit.files)
    cb = closed_loop.write_callbacks(a, tmp_path)
    wb = load_workbook(cb.path)
    rows = list(wb["callbacks"].iter_rows(values_only=True))
    head = list(rows[0])
    assert "email" in head and "phone" not in head
    assert len(rows) - 1 == int(det.sum())
    assert {"response_id", "touchpoint", "theme", "urgency", "contacted_on", "outcome"} <= set(head)
    for r in rows[1:]:
        for v in r:
            assert not (isinstance(v, str) and v[:1] in "=+-@"), v
    flagged = [r for r in rows[1:] if r[head.index("response_id")] == resp.loc[first, "response_id"]][0]
    assert "555 0199" not in flagged[head.index("comment_redacted")]
    # the report's blocks name no respondent and no contact
    html = "".join(b.data for b in closed_loop.blocks_loop(cb, "en"))
    assert "@" not in html and "R0" not in html
    bad = cfg.model_copy(update={"closed_loop": cfg.closed_loop.model_copy(update={"contact_columns": ["fax"]})})
    from cxaudit.errors import ConfigError

    with pytest.raises(ConfigError, match="closed_loop.contact_columns.*fax"):
        closed_loop.callbacks(type(audit)(audit.dir, bad, a.tables, audit.log, audit.rows_in, audit.files))


def test_loop_kpis_from_the_teams_returned_list(audit, tmp_path: Path) -> None:
    """The team returns the callback list with contacted_on / outcome filled in: share contacted, median days
    from the answer to the call and share resolved, against a hand count."""
    import shutil

    from cxaudit import closed_loop

    folder = tmp_path / "wave"
    folder.mkdir()
    shutil.copy(audit.files["responses"], folder / audit.files["responses"].name)
    a = type(audit)(audit.dir, audit.config, audit.tables, audit.log, audit.rows_in,
                    {**audit.files, "responses": folder / audit.files["responses"].name})
    cb = closed_loop.callbacks(a).table
    n = len(cb)
    back = cb[["response_id", "date"]].copy()
    k = n // 2
    back["contacted_on"] = [(d + pd.Timedelta(days=2)).isoformat() if i < k else "" for i, d in enumerate(back["date"])]
    back["outcome"] = ["resolved" if i < k // 2 else "no_answer" if i < k else "" for i in range(n)]
    back.drop(columns="date").to_excel(folder / closed_loop.RETURNED_FILE, index=False)
    rows = dict(closed_loop.loop_kpis({"w1": a}, "en")["rows"])
    assert rows["track.loop_due"].startswith(f"w1: {n:,}")
    assert rows["track.loop_contacted"].startswith(f"w1: {round(100 * k / n)}%")
    assert rows["track.loop_days"] == "w1: 2.0"
    assert rows["track.loop_resolved"] == f"w1: {round(100 * (k // 2) / n)}%"
