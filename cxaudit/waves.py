"""Waves of one client: which exist, which run belongs to which, and a cache of conformed tables.

A client that measures more than once keeps each wave's input files in ``data/<client>/waves/<wave>/``
beside one shared ``audit.yaml`` (the same relative file names in every wave). ``cxaudit run CLIENT
--wave W`` runs one wave (its ``manifest.json`` records ``"wave": W``); ``cxaudit track CLIENT``
(:mod:`cxaudit.track`) compares them all against the baseline's TO-BE plan.

Wave order is the natural order of the folder names (``wave2`` before ``wave10``; ``2025-H1`` before
``2025-H2``); the first is the baseline.

The conformed-table cache (:mod:`cxaudit.tablecache`, re-exported here) keys a table by the sha256 of the input file, of the
table's column mapping and of the settings that change what validation keeps, plus the cxaudit version:
a wave whose ``customers.csv`` is byte-identical to the previous wave's reuses the validated table
(Parquet) instead of reading and validating it again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths
from .errors import CxauditError
from .tablecache import CACHE_STATS, cache_key, cached_conform

__all__ = ["wave_names", "wave_runs", "WaveRun", "natural_key", "cached_conform", "CACHE_STATS", "cache_key"]


def natural_key(name: str) -> list[Any]:
    """Sort key that orders embedded numbers by value: ``wave2`` < ``wave10``.

    Examples
    --------
    >>> sorted(["wave10", "wave2", "wave1"], key=natural_key)
    ['wave1', 'wave2', 'wave10']
    """
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def wave_names(client_dir: Path) -> list[str]:
    """The waves of a client folder (``waves/<name>/`` holding at least one file), baseline first."""
    root = Path(client_dir) / "waves"
    if not root.is_dir():
        return []
    names = [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
             and any(f.is_file() for f in p.iterdir())]
    return sorted(names, key=natural_key)


@dataclass(frozen=True)
class WaveRun:
    """The finished run of one wave: its folder and manifest."""

    wave: str
    run_dir: Path
    manifest: dict[str, Any]


def _manifest_wave(m: dict[str, Any]) -> str | None:
    w = m.get("wave")
    if w is None:
        w = (m.get("parameters") or {}).get("wave")
    return None if w is None else str(w)


#: Manifest statuses of a finished run (``ok`` is what runs before the runner's status words wrote).
_FINISHED = ("complete", "ok")


def wave_runs(client: str) -> dict[str, WaveRun]:
    """The latest finished run of each wave of ``client`` (``reports/<client>/*/manifest.json`` with
    ``"wave"`` and status ``complete``), by wave name."""
    root = paths.client_reports_dir(client)
    out: dict[str, WaveRun] = {}
    if not root.is_dir():
        return out
    for mf in sorted(root.glob("*/manifest.json")):
        try:
            m = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CxauditError(f"{mf}: unreadable run manifest ({exc})") from exc
        w = _manifest_wave(m)
        if w is None or m.get("status") not in _FINISHED:
            continue
        out[w] = WaveRun(w, mf.parent, m)  # run ids start with a UTC timestamp: the last one wins
    return out
