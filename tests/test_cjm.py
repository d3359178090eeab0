"""Tests of :mod:`cxaudit.cjm`: every stage has an AS-IS value or says "not measured"; the TO-BE map
differs from the AS-IS map exactly where recommendations apply; persona maps; vector pages."""

from __future__ import annotations

import base64
import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from cxaudit import cjm, load_audit
from cxaudit.demo import generate_demo
from cxaudit.i18n import t
from cxaudit.recommend import Recommendation


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    return load_audit(generate_demo(tmp_path_factory.mktemp("cjm") / "demo", size="small", lang="en", seed=7))


def _rec(rank: int, tags: dict[str, list[str]]) -> Recommendation:
    texts = {lg: {"title": f"Change {rank}", "action": "", "impact_note": ""} for lg in ("en", "ru", "pl")}
    return Recommendation(id=f"r{rank}", rule="x", family="x", findings=[], evidence=[], texts=texts, impact_nps=1.0,
                          detractor_move=0.01, impact_model="none", revenue=None, currency="", effort="low",
                          horizon="0-3", tags=tags, owner="", measure={}, rank=rank)


def _texts(fig) -> list[str]:
    return [x.get_text() for ax in fig.axes for x in ax.texts]


def test_every_stage_has_a_value_or_says_not_measured(audit):
    # drop the touchpoints of two stages: those stages are in the map, not measured
    tps = audit.table("touchpoints")
    partial = dataclasses.replace(audit, tables={**audit.tables,
                                                 "touchpoints": tps[~tps["stage"].isin(["advocacy", "loyalty"])]})
    m = cjm.as_is_map(partial)
    assert list(m["stage"]) == list(audit.config.stages)
    assert (m["measured"] == m["top2"].notna()).all()
    assert set(m.loc[~m["measured"], "stage"]) == {"advocacy", "loyalty"}
    measured = m[m["measured"]]
    assert ((measured["top2_low"] <= measured["top2"]) & (measured["top2"] <= measured["top2_high"])).all()
    fig = cjm.map_figure(m, partial, "en", "AS-IS")
    texts = _texts(fig)
    nm = t("cjm.not_measured", "en")
    # each measured stage prints its satisfaction; each unmeasured one says so in the emotion, pain and
    # moment lanes
    for _, row in m.iterrows():
        if row["measured"]:
            assert f"{round(100 * row['top2'])}%" in " ".join(texts), row["stage"]
    assert texts.count(nm) == 3 * 2
    # the stage's own numbers are an independent recount: top-box share of the stage's ratings
    r = partial.responses
    cols = [c for c in tps.loc[tps["stage"] == "post-purchase", "touchpoint"]]
    x = r[cols].to_numpy(dtype=float).ravel()
    x = x[~np.isnan(x)]
    assert m.set_index("stage").loc["post-purchase", "top2"] == pytest.approx((x >= 4).mean())


def test_tobe_differs_exactly_where_recommendations_apply(audit):
    asis = cjm.as_is_map(audit)
    recs = [_rec(1, {"touchpoints": ["tp_delivery"]}), _rec(2, {"stages": ["awareness"]}),
            _rec(3, {"personas": ["2"], "touchpoints": ["tp_checkout"]}), _rec(4, {"channels": ["social"]})]
    tb = cjm.tobe_map(audit, asis, recs, lang="en")
    changed = set(tb.loc[tb["changes"].map(len) > 0, "stage"])
    # tp_delivery -> post-purchase; awareness by its stage tag; the channel-only R4 names no stage; R3
    # applies to purchase (a touchpoint it names) on the overall map too
    assert changed == {"post-purchase", "awareness", "purchase"}
    assert tb.set_index("stage").loc["post-purchase", "changes"] == ["R1"]
    diff = tb["target"].ne(tb["top2"]) & tb["top2"].notna()
    assert set(tb.loc[diff, "stage"]) <= changed
    assert (tb.loc[~tb["stage"].isin(changed), "target"].to_numpy() == asis.loc[~tb["stage"].isin(changed), "top2"].to_numpy()).all()
    # the worst stage (below the upper quartile) gets a target that closes half its gap
    post = tb.set_index("stage").loc["post-purchase"]
    bench = asis["top2"].quantile(0.75)
    assert post["target"] == pytest.approx(post["top2"] + 0.5 * (bench - post["top2"]))
    # on persona 1's map the recommendation for persona 2 does not apply
    tb1 = cjm.tobe_map(audit, asis, recs, persona=1, lang="en")
    assert "purchase" not in set(tb1.loc[tb1["changes"].map(len) > 0, "stage"])
    tb2 = cjm.tobe_map(audit, asis, recs, persona=2, lang="en")
    assert tb2.set_index("stage").loc["purchase", "changes"] == ["R3"]
    # on a persona's map the recommendations that name it come first (a full cell is cut short)
    more = [*recs, _rec(9, {"personas": ["2"], "touchpoints": ["tp_delivery"]})]
    assert cjm.tobe_map(audit, asis, more, persona=2, lang="en").set_index("stage").loc["post-purchase", "changes"] == ["R9", "R1"]
    assert cjm.tobe_map(audit, asis, more, lang="en").set_index("stage").loc["post-purchase", "changes"] == ["R1", "R9"]


def test_pages_are_vector_a4_landscape(audit):
    asis = cjm.as_is_map(audit)
    fig = cjm.map_figure(asis, audit, "pl", "Mapa")
    assert tuple(round(v, 2) for v in fig.get_size_inches()) == cjm.A4_LANDSCAPE
    html = cjm.svg_html(fig, 'a "map" <x>')
    assert html.startswith('<div class="cx-landscape">') and "&quot;map&quot; &lt;x&gt;" in html
    svg = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)).decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<image" not in svg


def test_quotes_are_redacted(audit):
    r = audit.responses.copy()
    low = r["tp_delivery"].astype(float) <= 2
    first = r.index[low][0]
    r.loc[first, "comment"] = "Call me at +48 601 234 567 or jan.kowalski@example.com, the parcel is late"
    r.loc[first, "nps"] = 0.0  # the lowest score, the earliest low rater: picked first
    m = cjm.as_is_map(dataclasses.replace(audit, tables={**audit.tables, "responses": r}))
    quotes = [q for q in m["quote"] if isinstance(q, str)]
    assert len(quotes) == len(set(quotes))  # no comment is shown at two stages
    q = next(q for q in quotes if "parcel is late" in q)  # the lowest score of a low rater: picked
    assert "601" not in q and "example.com" not in q


def test_value_canvas_matches_recommendations(audit):
    recs = [_rec(1, {"touchpoints": ["tp_delivery"]}), _rec(2, {"themes": ["easy_app"]}),
            _rec(3, {"personas": ["9"], "touchpoints": ["tp_delivery"]})]
    cv = cjm.value_canvas(audit, recs, persona=1, lang="en")
    assert "Home delivery" in cv["pains"] and cv["jobs"]
    assert cv["relievers"] == ["R1 Change 1"]  # R3 serves another persona
    # on its own persona's canvas R3 comes first
    assert cjm.value_canvas(audit, recs, persona=9, lang="en")["relievers"] == ["R3 Change 3", "R1 Change 1"]
    fig = cjm.canvas_figure(cv, "ru", "Ценностное предложение")
    assert any("Средства от проблем" in s for s in _texts(fig))


def test_survey_only_map(audit):
    """No touchpoint table: the map is still made, every stage not measured, and the page says what it needs."""
    only = dataclasses.replace(audit, tables={"responses": audit.responses})
    m = cjm.as_is_map(only)
    assert len(m) == 9 and not m["measured"].any()
    blocks = cjm.blocks_maps(only, [], pd.Series(1.0, index=only.responses.index), {1: "A"}, "en")
    assert sum("cx-landscape" in getattr(b, "data", "") for b in blocks) == 3  # overall, persona map, canvas
