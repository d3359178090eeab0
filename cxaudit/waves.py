"""Waves of one client: which exist, which run belongs to which, and a cache of conformed tables.

A client that measures more than once keeps each wave's input files in ``data/<client>/waves/<wave>/``
beside one shared ``audit.yaml`` (the same relative file names in every wave). ``cxaudit run CLIENT
--wave W`` runs one wave (its ``manifest.json`` records ``"wave": W``); ``cxaudit track CLIENT``
(:mod:`cxaudit.track`) compares them all against the baseline's TO-BE plan.

Wave order is the natural order of the folder names (``wave2`` before ``wave10``; ``2025-H1`` before
``2025-H2``); the first is the baseline.

The conformed-table cache (:func:`cached_conform`) keys a table by the sha256 of the input file, of the
table's column mapping and of the settings that change what validation keeps, plus the cxaudit version:
a wave whose ``customers.csv`` is byte-identical to the previous wave's reuses the validated table
(Parquet) instead of reading and validating it again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths
from .errors import CxauditError

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


# --- the conformed-table cache -------------------------------------------------------------------

#: Counters of the cache in this process: ``hits``, ``misses`` and the seconds each took.
CACHE_STATS: dict[str, float] = {"hits": 0, "misses": 0, "seconds_hit": 0.0, "seconds_miss": 0.0}


def _cxaudit_version() -> str:
    try:
        return version("cxaudit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "source"


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(name: str, path: Path, spec: Any, config: Any) -> str:
    """sha256 of (table name, input file's sha256, the table's spec, the validation settings of
    ``config`` (everything but the inputs of other tables), cxaudit's version)."""
    cfg = config.model_dump(mode="json") if hasattr(config, "model_dump") else dict(config)
    cfg = {k: v for k, v in cfg.items() if k != "inputs"}
    sp = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else dict(spec)
    payload = json.dumps([name, _file_sha256(Path(path)), sp, cfg, _cxaudit_version()], sort_keys=True,
                         default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _restore(frame: pd.DataFrame, objects: list[str]) -> pd.DataFrame:
    """Object columns as conform made them (Parquet reads them back as strings with NaN for None)."""
    cols = [c for c in objects if c in frame.columns]
    if cols:
        frame[cols] = frame[cols].astype(object).where(frame[cols].notna(), None)
    return frame


def cached_conform(name: str, path: Path, spec: Any, config: Any, cache_dir: Path,
                   compute: Callable[[], tuple[pd.DataFrame, pd.DataFrame, int]]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """``compute()`` -> (kept rows, problem log, rows read) of one input table, or the cached result
    of an earlier call with the same :func:`cache_key`.

    The cache lives in ``cache_dir/<key>/`` (``kept.parquet``, ``log.parquet``, ``meta.json``); an
    entry is written to a temporary folder and renamed, so a crashed write never leaves half an entry.
    """
    key = cache_key(name, path, spec, config)
    entry = Path(cache_dir) / key
    t0 = time.perf_counter()
    if (entry / "meta.json").is_file():
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        kept = _restore(pd.read_parquet(entry / "kept.parquet"), meta.get("object_columns", {}).get("kept", []))
        log = _restore(pd.read_parquet(entry / "log.parquet"), meta.get("object_columns", {}).get("log", []))
        log["file"] = str(path)  # the log names the file this wave read
        CACHE_STATS["hits"] += 1
        CACHE_STATS["seconds_hit"] += time.perf_counter() - t0
        return kept, log, int(meta["rows_in"])
    kept, log, rows_in = compute()
    tmp = entry.with_name(entry.name + f".tmp{time.time_ns()}")
    tmp.mkdir(parents=True, exist_ok=True)
    kept.to_parquet(tmp / "kept.parquet")
    log.to_parquet(tmp / "log.parquet")
    objects = {"kept": [str(c) for c in kept.columns if kept[c].dtype == object],
               "log": [str(c) for c in log.columns if log[c].dtype == object]}
    (tmp / "meta.json").write_text(json.dumps({"table": name, "file": str(path), "rows_in": rows_in,
                                               "object_columns": objects}), encoding="utf-8")
    try:
        tmp.rename(entry)
    except OSError:  # another process wrote the same entry first: keep theirs
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    CACHE_STATS["misses"] += 1
    CACHE_STATS["seconds_miss"] += time.perf_counter() - t0
    return kept, log, rows_in
