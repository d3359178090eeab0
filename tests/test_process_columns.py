"""In a run, the process analysis reads only the event log's columns it needs, as categoricals
(``Audit.columns``), and gets exactly what it gets from the whole table in memory (issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxaudit import bpmn, process
from cxaudit.audit import load_audit, load_snapshot
from cxaudit.demo import generate_demo


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    folder = tmp_path_factory.mktemp("proc") / "demo"
    generate_demo(folder, size="small", lang="en", seed=11)
    mem = load_audit(folder)
    mem.save(folder.parent / "tables")
    return mem, load_snapshot(folder.parent / "tables")


def test_columns_reads_the_subset_as_categoricals_without_reading_the_table(audits: tuple) -> None:
    mem, snap = audits
    ev = snap.columns("events", process.EVENT_COLUMNS, categories=process.EVENT_CATEGORIES)
    assert list(ev.columns) == [c for c in mem.table("events").columns if c in process.EVENT_COLUMNS]
    assert "resource" not in ev.columns
    assert isinstance(ev["activity"].dtype, pd.CategoricalDtype) and not snap.tables.is_read("events")
    full = mem.table("events")
    for c in ev.columns:
        np.testing.assert_array_equal(ev[c].astype(object).to_numpy(), full[c].astype(object).to_numpy())
    # a table already read whole is returned as it is (no second copy)
    whole = snap.table("events")
    assert snap.columns("events", ["activity"])["activity"].dtype == whole["activity"].dtype


def test_the_analysis_on_categorical_columns_equals_the_analysis_on_the_table(audits: tuple) -> None:
    mem, snap = audits
    fresh = load_snapshot(mem.dir.parent / "tables")
    a, b = process.analyse_audit(mem), process.analyse_audit(fresh)
    assert not fresh.tables.is_read("events")  # read through Audit.columns
    for field in ("dfg", "variants", "loops", "handovers", "bottlenecks", "cases", "conformance", "experience"):
        pd.testing.assert_frame_equal(getattr(b, field), getattr(a, field), check_exact=True, obj=field)
    pd.testing.assert_series_equal(b.starts, a.starts)
    pd.testing.assert_series_equal(b.ends, a.ends)
    np.testing.assert_array_equal(b.log.case, a.log.case)
    np.testing.assert_array_equal(b.log.act, a.log.act)
    assert list(b.log.cases) == list(a.log.cases) and list(b.log.activities) == list(a.log.activities)
    pa_, pb = process.paths_audit(mem), process.paths_audit(load_snapshot(mem.dir.parent / "tables"))
    paths = [bpmn._asis_path(pa_, dep) for dep in ("Customer Service", "Logistics", "Billing")]
    assert all(p[0] for p in paths)  # every department has a path in the demo
    assert [bpmn._asis_path(pb, dep) for dep in ("Customer Service", "Logistics", "Billing")] == paths
