"""Issue 13, "Must show": each of the five data shapes (tests/data/shapes, seeded, a few hundred rows
each) runs through the chain (``cxaudit.runner.run_audit``, HTML only, two jobs) and ends in findings
and TO-BE recommendations drawn from what was found. The survey without NPS also renders a non-empty
brief edition.

Slow. What a run costs is the number of notebooks (each starts a kernel and imports the package: 12-14 s
per notebook even with no data, measured under load), not the rows. So the whole registry runs once, on the
customers-only shape (no survey, no tickets: every section's missing-input path, where the personas
section used to crash); each other shape runs only the sections that make its findings, plus TO-BE.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from statsmodels.stats.proportion import proportion_confint

from cxaudit import paths
from cxaudit.cli import main
from cxaudit.runner import run_audit
from cxaudit.sections import SECTIONS

pytestmark = pytest.mark.slow

SHAPES = Path(__file__).parent / "data" / "shapes"

#: shape -> (finding id prefixes that must be there, recommendation rules of which one must fire)
EXPECT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "telecom": (("churn.",), ("churn_",)),
    "airline": (("journey.pain_point_outcome.",), ("journey_pain_point_outcome",)),
    "reviews_pl": (("cx_metrics.",), ("",)),
    "tweets_ru": (("voc.theme.",), ("voc_",)),
    "tickets": (("tickets.",), ("tickets_",)),
    "staff": (("employees.",), ("employees_",)),  # an employees-only client (the demo's employees + kpis)
}

#: The sections each shape runs (None: the whole registry). TO-BE is always added.
SECTIONS_RUN: dict[str, tuple[str, ...] | None] = {
    "telecom": None,
    "airline": ("cx_metrics", "journey"),
    "reviews_pl": ("cx_metrics", "voc"),
    "tweets_ru": ("voc",),
    "tickets": ("voc",),
    "staff": ("employees",),
}


def _findings(run_dir: Path) -> list[dict]:
    out: list[dict] = []
    for f in sorted((run_dir / "findings").glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        out += data if isinstance(data, list) else data.get("findings", [])
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One CXAUDIT_HOME for the module: the five shapes, the employees-only client, and one folder of
    notebooks per shape (the runner runs the registry's sections whose notebook is in the folder)."""
    root = tmp_path_factory.mktemp("shapes_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CXAUDIT_HOME", str(root))
        for shape in EXPECT:
            if shape != "staff":
                shutil.copytree(SHAPES / shape, root / "data" / shape)
        res = CliRunner().invoke(main, ["demo", "--size", "small"])
        assert res.exit_code == 0, res.output
        folder = root / "data" / "staff"
        folder.mkdir(parents=True)
        for name in ("employees.csv", "kpis.csv"):
            shutil.copy(root / "data" / "demo" / name, folder / name)
        (folder / "audit.yaml").write_text('client: {name: "Staff only", language: en}\ninputs:\n'
                                           "  employees: {file: employees.csv}\n  kpis: {file: kpis.csv}\n",
                                           encoding="utf-8")
        for shape, keys in SECTIONS_RUN.items():
            nb_dir = root / "notebooks" / shape
            nb_dir.mkdir(parents=True)
            for key in (SECTIONS if keys is None else (*keys, "to_be")):
                shutil.copy(paths.NOTEBOOKS_DIR / SECTIONS[key].notebook, nb_dir)
        yield root


def _run(home: Path, shape: str) -> Path:
    editions = ("full", "brief") if shape == "airline" else ("full",)
    res = run_audit(shape, jobs=2, formats=("html",), editions=editions, progress=False,
                    notebooks_dir=home / "notebooks" / shape)
    return Path(res.run_dir)


@pytest.mark.parametrize("shape", sorted(EXPECT))
def test_shape_runs_end_to_end(shape: str, home: Path) -> None:
    run = _run(home, shape)
    ran = sorted(p.name for p in (run / "notebooks").glob("*.ipynb"))
    want_nbs = sorted(p.name for p in (home / "notebooks" / shape).glob("*.ipynb"))
    assert ran == want_nbs
    assert (run / "report.html").stat().st_size > 10_000
    findings = _findings(run)
    ids = [f["id"] for f in findings]
    want_ids, want_rules = EXPECT[shape]
    for prefix in want_ids:
        assert any(i.startswith(prefix) for i in ids), (prefix, ids)
    tobe = json.loads((run / "tobe.json").read_text(encoding="utf-8"))
    rules = [r["rule"] for r in tobe["recommendations"]]
    assert rules, f"no recommendation for {shape}: findings {ids}"
    assert any(r.startswith(p) for r in rules for p in want_rules), rules
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "Traceback" not in html
    if shape == "airline":  # a survey without NPS: the pain points are the planted ones; the brief has them
        pains = {i.rsplit(".", 1)[1] for i in ids if i.startswith("journey.pain_point_outcome.")}
        assert {"boarding", "wifi", "seat"} <= pains, pains
        brief = (run / "report-brief.html").read_text(encoding="utf-8")
        assert "Online boarding" in brief
        # TO-BE in points of the outcome (issue 13): the pain points are measured changes on the roadmap,
        # the plan has a target on "Satisfied passengers" with its interval and the answers per wave
        recs = tobe["recommendations"]
        pains = [r for r in recs if r["rule"] == "journey_pain_point_outcome"]
        assert pains and all(r["on_plan"] and r["impact_model"] == "low_raters" and r["impact_nps"] > 0 for r in pains)
        assert all(r["impact_unit"]["en"] == "pts Satisfied passengers" for r in pains)
        tg = tobe["targets"]
        assert tg["basis"] == "outcome" and tg["nps_as_is"] is None
        assert tg["outcome_to_be"] > tg["outcome_as_is"] and tg["outcome_ci"][0] < tg["outcome_as_is"] < tg["outcome_ci"][1]
        assert tg["checks"]["outcome"]["n_needed"] > 0
        assert "Effect, pts Satisfied passengers" in html
        # tables.xlsx names the outcome too, never "NPS effect"
        sheets = pd.read_excel(run / "tables.xlsx", sheet_name=None)
        headers = {str(c) for df in sheets.values() for c in df.columns}
        assert "Effect, pts Satisfied passengers" in headers and "NPS effect" not in headers
    if shape == "telecom":  # customers only: the money rests on the stated month, not on any survey date
        churn_f = next(f for f in findings if f["id"] == "churn.rate.overall")
        assert churn_f["evidence"].get("window") is None
    if shape == "tweets_ru":  # no score at all: themes by frequency, labelled so, lower severity
        raw = pd.read_csv(SHAPES / "tweets_ru" / "tweets.csv")
        k = int(raw["text"].isin(["@mts_support опять нет связи второй день",
                                  "Нет покрытия за городом, звонки обрываются"]).sum())  # the two planted
        f = next(f for f in findings if f["id"] == "voc.theme.network_coverage")
        lo, hi = proportion_confint(k, len(raw), method="wilson")
        assert f["evidence"]["basis"] == "frequency" and f["severity"] == 2
        assert np.allclose([f["value"], f["ci_low"], f["ci_high"]], [100 * k / len(raw), 100 * lo, 100 * hi])
        assert "по частоте" in f["title"]
        assert any(r["rule"] == "voc_theme" for r in tobe["recommendations"])
