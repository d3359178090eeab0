"""bench/scale.py's measurement (issue 19): the process tree's CPU and summed peak memory, children included."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scale():  # noqa: ANN201
    pytest.importorskip("psutil")
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["bench_scale"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_measure_counts_a_grandchild_s_memory_and_cpu(scale, tmp_path: Path) -> None:  # noqa: ANN001
    """The parent holds ~150 MB and starts a child that holds ~250 MB and burns CPU: the tree's peak is
    their sum (> 380 MB), the largest process ~250 MB, and the child's CPU is counted."""
    child = ("import time, numpy as np; a = np.ones(250 * 2**20 // 8); t = time.process_time()\n"
             "while time.process_time() - t < 1.0: a[:1000] += 1\n"
             "time.sleep(0.6)")
    parent = ("import subprocess, sys, numpy as np; b = np.ones(150 * 2**20 // 8)\n"
              f"subprocess.run([sys.executable, '-c', {child!r}], check=True)")
    res = scale.measure([sys.executable, "-c", parent], {"PATH": "/usr/bin:/bin"}, tmp_path / "log.txt")
    assert res["returncode"] == 0, (tmp_path / "log.txt").read_text()
    assert res["peak_tree_rss_mb"] > 380, res
    assert 240 < res["peak_process_rss_mb"] < 380, res
    assert res["cpu_s"] >= 1.0 and res["max_processes"] >= 2, res


def test_markdown_table_has_both_sides_and_ratios(scale) -> None:  # noqa: ANN001
    results = [{"size": "default",
                "chain": {"wall_s": 30.0, "cpu_s": 40.0, "peak_tree_rss_mb": 900.0, "peak_process_rss_mb": 400.0,
                          "returncode": 0, "notebooks_s": {"01_data_quality.ipynb": 2.0}, "tables_s": 0.5,
                          "notebooks_peak_mb": {"01_data_quality.ipynb": 310.5},
                          "at_peak": {"t_s": 12.5, "procs": [{"pid": 2, "kind": "kernel", "rss_mb": 600.0},
                                                             {"pid": 1, "kind": "main", "rss_mb": 300.0}]}},
                "baseline": {"wall_s": 20.0, "cpu_s": 20.0, "peak_tree_rss_mb": 450.0,
                             "stages": [{"stage": "01_data_quality.ipynb", "wall_s": 1.0, "cpu_s": 0.9}]},
                "ratio": {"wall_s": 1.5, "cpu_s": 2.0, "peak_tree_rss_mb": 2.0}}]
    md = scale.markdown(results, {"date": "2026-12-04", "cpus": 2, "jobs": 2, "load_start": [1], "load_end": [1]})
    assert "| default | 30.0 | 20.0 | 1.5 | 40.0 | 20.0 | 2.0 | 900.0 | 450.0 | 400.0 |" in md
    assert "| 01_data_quality.ipynb | 2.0 | 310.5 | 1.0 | 0.9 |" in md
    assert "at its peak (12.5 s after the start): kernel 600 MB, main 300 MB" in md
