"""Issue 14, TO-BE charts: the impact × effort matrix places its labels apart and keeps every point
inside the axes; the roadmap wraps long titles (never cut with "…"), in English and Russian; both
carry a takeaway title."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from cxaudit import recommend as rc  # noqa: E402

_TITLE_RU = "Перестроить «Звонок в службу поддержки» — ключевой драйвер NPS для клиентов сегмента «Корпоративные»"


def _recs() -> list[rc.Recommendation]:
    """14 changes crowded at medium effort with impacts near 0 (as in the demo), a few elsewhere."""
    out = []
    spec = [("medium", 0.2 + 0.05 * i) for i in range(10)] + [("low", 2.3), ("low", 0.0), ("high", 10.0), ("medium", 0.0)]
    for i, (effort, impact) in enumerate(spec, start=1):
        texts = {lg: {"title": (_TITLE_RU if lg == "ru" else "Redesign “Call to the support line”, a key driver of "
                                "NPS for the customers of the segment “Corporate”") + f" {i}",
                      "action": "", "impact_note": ""} for lg in ("en", "ru", "pl")}
        high = impact >= 1.0
        quad = ("quick_win" if effort == "low" else "strategic") if high else ("fill_in" if effort == "low" else "reconsider")
        out.append(rc.Recommendation(
            id=f"r{i}", rule="x", family="x", findings=[], evidence=[], texts=texts, impact_nps=impact,
            detractor_move=0.0, impact_model="fixed", revenue=None, currency="", effort=effort,
            horizon=("0-3", "3-6", "6-12")[i % 3], tags={}, owner="", measure={}, quadrant=quad, rank=i))  # 0-3: i = 3, 6, 9, 12
    return out


def _draw(fig: matplotlib.figure.Figure) -> None:
    FigureCanvasAgg(fig)  # the chart functions close their figures: draw on an Agg canvas of our own
    fig.canvas.draw()


def _boxes(fig: matplotlib.figure.Figure, texts: list) -> list:
    renderer = fig.canvas.get_renderer()
    return [x.get_window_extent(renderer) for x in texts]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_matrix_labels_apart_and_points_inside(lang: str) -> None:
    recs = _recs()
    fig = rc.impact_effort_chart(recs, lang)
    ax = fig.axes[0]
    _draw(fig)
    labels = [x for x in ax.texts if x.get_text() in {r.label(lang) for r in recs}]
    assert len(labels) == len(recs)
    boxes = _boxes(fig, labels)
    overlaps = [(labels[i].get_text(), labels[j].get_text()) for i in range(len(boxes)) for j in range(i)
                if boxes[i].overlaps(boxes[j])]
    assert not overlaps, overlaps
    lo, hi = ax.get_ylim()
    for coll in ax.collections:  # every point: its whole marker inside the axes (not cut at 0)
        x, y = coll.get_offsets()[0]
        assert lo < y < hi
        radius_px = (coll.get_sizes()[0] ** 0.5) / 2 * fig.dpi / 72
        ypx = ax.transData.transform((x, y))[1]
        assert ypx - radius_px >= ax.transData.transform((x, lo))[1] - 0.5
    title = fig._suptitle.get_text().replace("\n", " ")
    assert title.startswith({"en": "Quick wins: 1", "ru": "Быстрых побед: 1"}[lang])
    assert "R13" in title or "Р13" in title


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_roadmap_wraps_full_titles(lang: str) -> None:
    recs = _recs()
    fig = rc.roadmap_chart(recs, lang)
    _draw(fig)
    ax = fig.axes[0]
    texts = [x for x in ax.texts]
    joined = [" ".join(x.get_text().split("\n")) for x in texts]
    for r in recs:
        assert f"{r.label(lang)} {r.title(lang)}" in joined  # the whole title, wrapped, never cut
    assert not any("…" in j for j in joined)
    assert any("\n" in x.get_text() for x in texts)
    fig_box = fig.bbox
    for b in _boxes(fig, texts):  # nothing runs off the figure
        assert b.x0 >= fig_box.x0 - 1 and b.x1 <= fig_box.x1 + 1
    boxes = _boxes(fig, texts)
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i))
    assert fig._suptitle.get_text().replace("\n", " ").startswith({"en": "4 of the 14", "ru": "Изменений"}[lang])
