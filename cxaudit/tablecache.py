"""The conformed-table cache: a validated input table stored as Parquet, keyed by its input's sha256.

:func:`cxaudit.audit.load_audit` uses it for waves (``cxaudit run CLIENT --wave W``): a wave whose
``customers.csv`` is byte-identical to an earlier wave's, with the same column mapping and validation
settings, reads the validated table back instead of reading and validating the file again. The key
(:func:`cache_key`) is the sha256 of the table name, the input file's sha256, the table's spec, the
settings of ``audit.yaml`` other than the inputs, and cxaudit's version, so any change that could change
what validation keeps makes a new entry.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["CACHE_STATS", "cache_key", "cached_conform"]


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
