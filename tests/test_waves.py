"""Waves: the demo's waves (baseline byte-identical, planted dates and questions), wave discovery and
runs per wave, and the conformed-table cache keyed by input hashes."""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxaudit.audit import load_audit
from cxaudit.demo import PLANTED, generate_demo, generate_waves
from cxaudit.waves import CACHE_STATS, cached_conform, natural_key, wave_names, wave_runs


@pytest.fixture(scope="module")
def waves_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_waves(tmp_path_factory.mktemp("waves") / "demo", waves=3, size="small")


def test_baseline_wave_is_todays_demo_byte_for_byte(waves_dir: Path, tmp_path: Path) -> None:
    plain = generate_demo(tmp_path / "plain", size="small")
    for f in sorted(p.name for p in plain.iterdir() if p.suffix == ".csv"):
        assert filecmp.cmp(plain / f, waves_dir / f, shallow=False), f
        assert filecmp.cmp(plain / f, waves_dir / "waves" / "wave1" / f, shallow=False), f
    assert filecmp.cmp(plain / "audit.yaml", waves_dir / "audit.yaml", shallow=False)
    assert not (waves_dir / "waves" / "wave2" / "audit.yaml").exists()  # one audit.yaml for all waves


def test_later_waves_are_later_and_drop_a_question(waves_dir: Path) -> None:
    months = PLANTED["waves"]["months_between_waves"]
    first = {}
    for k in (1, 2, 3):
        r = pd.read_csv(waves_dir / "waves" / f"wave{k}" / "responses.csv", dtype=str, keep_default_na=False)
        d = pd.to_datetime(r["Submitted"], format="%Y-%m-%d %H:%M", errors="coerce").dropna()
        first[k] = d.min()
        assert ("tp_review_request" in r.columns) == (k < 3)
        # the planted bad dates survive the shift untouched
        assert r["Submitted"].isin(["31/02/2025", "n/a"]).any()
    assert first[2] - pd.DateOffset(months=months) <= first[1] + pd.Timedelta(days=3)
    assert first[3].year - first[1].year == 2 * months // 12


def test_wave_names_natural_order_and_skip_empty(tmp_path: Path) -> None:
    for name in ("wave10", "wave2", "wave1", ".hidden", "empty"):
        (tmp_path / "waves" / name).mkdir(parents=True)
        if name != "empty":
            (tmp_path / "waves" / name / "responses.csv").write_text("x\n")
    assert wave_names(tmp_path) == ["wave1", "wave2", "wave10"]
    assert sorted(["2025-H2", "2025-H1", "2024-H2"], key=natural_key) == ["2024-H2", "2025-H1", "2025-H2"]
    assert wave_names(tmp_path / "nothing") == []


def test_wave_runs_latest_ok_run_per_wave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    root = tmp_path / "reports" / "acme"
    runs = [("20260101T000000Z-aaaa", "w1", "complete"), ("20260102T000000Z-bbbb", "w1", "complete"),
            ("20260103T000000Z-cccc", "w1", "failed"), ("20260103T100000Z-ffff", "w1", "running"),
            ("20260104T000000Z-dddd", "w2", "complete"), ("20260105T000000Z-eeee", None, "complete")]
    for rid, wave, status in runs:
        (root / rid).mkdir(parents=True)
        m = {"status": status, **({"wave": wave} if wave else {})}
        (root / rid / "manifest.json").write_text(json.dumps(m))
    got = {w: r.run_dir.name for w, r in wave_runs("acme").items()}
    assert got == {"w1": "20260102T000000Z-bbbb", "w2": "20260104T000000Z-dddd"}


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=True)


def test_cache_hit_returns_the_same_tables(waves_dir: Path, tmp_path: Path) -> None:
    from cxaudit.io import read_table
    from cxaudit.schema import conform

    audit = load_audit(waves_dir, wave="wave1")
    spec = audit.config.inputs["customers"]
    path = waves_dir / "waves" / "wave1" / spec.file

    def compute():
        raw = read_table(path, spec)
        kept, log = conform("customers", raw, spec, audit.config)
        return kept, log, len(raw.frame)

    h0, m0 = CACHE_STATS["hits"], CACHE_STATS["misses"]
    k1, l1, n1 = cached_conform("customers", path, spec, audit.config, tmp_path / "cache", compute)
    k2, l2, n2 = cached_conform("customers", path, spec, audit.config, tmp_path / "cache", compute)
    assert (CACHE_STATS["misses"] - m0, CACHE_STATS["hits"] - h0) == (1, 1)
    assert n1 == n2 == audit.rows_in["customers"]
    _frames_equal(k1, audit.tables["customers"])
    _frames_equal(k2, audit.tables["customers"])
    # a byte-identical file in another wave hits the same entry; a changed file does not
    other = tmp_path / "copy.csv"
    shutil.copy(path, other)
    cached_conform("customers", other, spec, audit.config, tmp_path / "cache", compute)
    assert CACHE_STATS["hits"] - h0 == 2
    other.write_text(other.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    cached_conform("customers", other, spec, audit.config, tmp_path / "cache", compute)
    assert CACHE_STATS["misses"] - m0 == 2


def test_load_audit_of_a_wave_reuses_unchanged_tables(waves_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A wave load validates each table once; a later load of a byte-identical file reads it back (same
    tables, log and row counts as validating again)."""
    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    cold = load_audit(waves_dir, wave="wave2", cache=False)
    h0, m0 = CACHE_STATS["hits"], CACHE_STATS["misses"]
    first = load_audit(waves_dir, wave="wave2")
    assert (CACHE_STATS["hits"] - h0, CACHE_STATS["misses"] - m0) == (0, len(cold.tables))
    again = load_audit(waves_dir, wave="wave2")
    assert CACHE_STATS["hits"] - h0 == len(cold.tables)
    # touchpoints.csv and kpis.csv are the same in every demo wave: wave3 reuses them
    load_audit(waves_dir, wave="wave3")
    assert CACHE_STATS["hits"] - h0 == len(cold.tables) + 2
    for audit in (first, again):
        assert audit.rows_in == cold.rows_in
        for name in cold.tables:
            _frames_equal(audit.tables[name], cold.tables[name])
        _frames_equal(audit.log, cold.log)
    assert (tmp_path / "reports" / "demo" / ".cache" / "conformed").is_dir()


def test_cli_demo_waves_and_track_without_waves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from cxaudit.cli import main

    monkeypatch.setenv("CXAUDIT_HOME", str(tmp_path))
    out = CliRunner().invoke(main, ["demo", "--waves", "2", "--size", "small"])
    assert out.exit_code == 0, out.output
    assert wave_names(tmp_path / "data" / "demo") == ["wave1", "wave2"]
    generate_demo(tmp_path / "data" / "single", size="small")
    out = CliRunner().invoke(main, ["track", "single"])
    assert out.exit_code == 1 and "at least two waves" in out.output and "Traceback" not in out.output
