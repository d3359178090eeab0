"""Load once: the tables a run saves for its notebooks read back exactly as validated (issue 12).

The runner validates the client's files once and saves the conformed tables and the exclusion log
(:meth:`cxaudit.audit.Audit.save`); every notebook's ``start()`` reads them (:func:`load_snapshot`).
The reference is ``load_audit`` itself: same frames (values, dtypes, index), same log, same accounting,
so every report number computed from them is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxaudit.audit import load_audit, load_snapshot
from cxaudit.demo import generate_demo
from cxaudit.session import start


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("snap") / "demo"
    generate_demo(folder, size="small", lang="ru", seed=3)
    return folder


def test_snapshot_reads_back_every_table_and_the_log_unchanged(demo: Path, tmp_path: Path) -> None:
    audit = load_audit(demo)
    audit.save(tmp_path / "tables")
    back = load_snapshot(tmp_path / "tables")
    assert list(back.tables) == list(audit.tables)
    for name, frame in audit.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], frame, check_exact=True)
    pd.testing.assert_frame_equal(back.log, audit.log, check_exact=True)
    assert back.rows_in == audit.rows_in and back.files == audit.files and back.dir == audit.dir
    assert back.config == audit.config
    pd.testing.assert_frame_equal(back.intake("ru"), audit.intake("ru"))


def test_a_notebook_in_a_run_reads_the_snapshot_not_the_client_files(demo: Path, tmp_path: Path) -> None:
    audit = load_audit(demo)
    run_dir = tmp_path / "run"
    audit.save(run_dir / "tables")
    # the client's files change after validation: a run's notebooks still see what was validated
    (demo / "responses.csv").rename(demo / "responses.csv.moved")
    try:
        nb = start("02_cx_metrics", client="demo-does-not-matter", run_dir=run_dir, lang="en")
        pd.testing.assert_frame_equal(nb.audit.responses, audit.responses)
    finally:
        (demo / "responses.csv.moved").rename(demo / "responses.csv")


def test_a_wave_reads_its_own_files_with_the_shared_config(demo: Path, tmp_path: Path) -> None:
    import shutil

    from cxaudit.errors import CxauditError

    wave = demo / "waves" / "w2"
    wave.mkdir(parents=True)
    for path in demo.glob("*.csv"):
        shutil.copy(path, wave / path.name)
    lines = (wave / "responses.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (wave / "responses.csv").write_text("".join(lines[:101]), encoding="utf-8")  # header + 100 rows
    w = load_audit(demo, wave="w2")
    assert w.rows_in["responses"] == 100 and w.wave == "w2"
    assert load_audit(demo).rows_in["responses"] > 100
    with pytest.raises(CxauditError, match="no wave 'w9'; waves found: w2"):
        load_audit(demo, wave="w9")
    with pytest.raises(CxauditError, match="not allowed"):
        load_audit(demo, wave="../w2")


def test_a_column_parquet_cannot_hold_still_reads_back_unchanged(demo: Path, tmp_path: Path) -> None:
    """A client's extra column that mixes numbers and text in one object column (Arrow refuses it) is
    kept in the run's own pickle instead, and reads back exactly."""
    audit = load_audit(demo)
    mixed = pd.Series([1, "two", 3.5, None] * (len(audit.responses) // 4 + 1), dtype=object)
    audit.tables["responses"]["mixed"] = mixed.iloc[:len(audit.responses)].to_numpy()
    audit.save(tmp_path / "tables")
    assert (tmp_path / "tables" / "responses.pkl").is_file() and not (tmp_path / "tables" / "responses.parquet").exists()
    back = load_snapshot(tmp_path / "tables")
    pd.testing.assert_frame_equal(back.responses, audit.responses, check_exact=True)
    pd.testing.assert_frame_equal(back.tables["customers"], audit.tables["customers"], check_exact=True)


def test_a_spilled_load_equals_the_in_memory_load_and_save_moves_its_files(demo: Path, tmp_path: Path) -> None:
    """``load_audit(spill=...)`` (the runner's way: each table written when validated, then dropped)
    gives the same tables, log and accounting as the in-memory load; ``save`` moves the files (the
    spill folder disappears) and a snapshot of it equals a snapshot of the in-memory audit."""
    ref = load_audit(demo)
    spill = tmp_path / ".loading"
    audit = load_audit(demo, spill=spill)
    assert sorted(p.name for p in spill.iterdir()) == sorted(f"{n}.parquet" for n in ref.tables)
    assert audit.tables._frames == {}  # nothing held in memory after the load
    pd.testing.assert_frame_equal(audit.intake("ru"), ref.intake("ru"))
    assert audit.tables._frames == {}  # the accounting reads no table
    for name, frame in ref.tables.items():
        pd.testing.assert_frame_equal(audit.tables[name], frame, check_exact=True)
        assert audit.tables[name].attrs == frame.attrs
    audit.save(tmp_path / "run" / "tables")
    assert not spill.exists()
    ref.save(tmp_path / "ref" / "tables")
    a, b = load_snapshot(tmp_path / "run" / "tables"), load_snapshot(tmp_path / "ref" / "tables")
    for name in ref.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True)
    pd.testing.assert_frame_equal(a.log, b.log, check_exact=True)
    assert (json.loads((tmp_path / "run" / "tables" / "_audit.json").read_text(encoding="utf-8"))
            == json.loads((tmp_path / "ref" / "tables" / "_audit.json").read_text(encoding="utf-8")))
    # a table read after the move is read from its new place
    pd.testing.assert_frame_equal(audit.tables["responses"], ref.tables["responses"], check_exact=True)


def test_release_memory_returns_a_dropped_table_to_the_system() -> None:
    """After a 400 MB text column is dropped, :func:`release_memory` brings the resident size back down
    (Arrow's pool and glibc keep freed blocks otherwise)."""
    import gc

    import numpy as np
    import psutil

    from cxaudit.audit import release_memory

    me = psutil.Process()
    release_memory()
    before = me.memory_info().rss
    s = pd.Series(np.char.add("customer-", np.arange(8_000_000).astype(str)), dtype="string")
    assert me.memory_info().rss - before > 150e6
    del s
    gc.collect()
    release_memory()
    assert me.memory_info().rss - before < 100e6
