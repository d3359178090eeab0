"""bench/findings_diff.py: two runs' findings compared with dates and run ids masked, numbers exact."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("findings_diff", Path(__file__).parents[1] / "bench" / "findings_diff.py")
assert _SPEC is not None and _SPEC.loader is not None
fd = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fd)


def _run(root: Path, name: str, findings: list[dict]) -> Path:
    run = root / name
    (run / "findings").mkdir(parents=True)
    (run / "findings" / "04_churn.json").write_text(json.dumps(findings), encoding="utf-8")
    return run


def _finding(**kw) -> dict:
    base = {"id": "churn.rate.overall", "title": "14.4% left from 2025-01-01 to Jun 2026", "value": 14.4,
            "evidence": {"window": ["2025-01-01", "2026-06-30"], "run": "20261204T180828Z-809178cd",
                         "p": 0.3068808616061185}}
    return base | kw


def test_dates_and_run_ids_are_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _run(tmp_path, "a", [_finding()])
    b = _run(tmp_path, "b", [_finding(title="14.4% left from 2025-02-01 to Jul 2026",
                                      evidence={"window": ["2025-02-01", "2026-07-31"],
                                                "run": "20261205T090000Z-0000abcd", "p": 0.3068808616061185})])
    assert fd.main([str(a), str(b)]) == 0
    assert "identical" in capsys.readouterr().out


def test_any_number_or_missing_finding_is_a_difference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _run(tmp_path, "a", [_finding(), _finding(id="churn.reason.price")])
    b = _run(tmp_path, "b", [_finding(evidence={"window": ["2025-01-01", "2026-06-30"],
                                                "run": "20261204T180828Z-809178cd", "p": 0.3068808616061186})])
    assert fd.main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "churn.rate.overall  evidence.p: 0.3068808616061185 -> 0.3068808616061186" in out
    assert "churn.reason.price: only in A" in out
    assert fd.compare(a, b, ("journey",)) == []  # --only: other sections' ids are not compared
