"""``load_audit``: a client folder -> validated canonical tables + the exclusion log.

The runner loads and validates once, then :meth:`Audit.save` writes the conformed tables (Parquet) and
the exclusion log into the run folder; every notebook's :func:`cxaudit.start` reads them back with
:func:`load_snapshot` instead of reading and validating the client's files again.

Examples
--------
>>> audit = load_audit("demo")                       # doctest: +SKIP
>>> audit.responses.shape, audit.intake()            # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths
from .config import AuditConfig, load_config, side_files
from .errors import ConfigError, CxauditError
from .io import read_table
from .schema import LOG_COLUMNS, RULE_ORDER, check_named_columns, conform, touchpoint_columns

__all__ = ["Audit", "load_audit", "load_snapshot", "resolve_client", "DEMO_CLIENT", "SNAPSHOT_DIR"]

DEMO_CLIENT = "demo"
#: Folder of a run holding the conformed tables, the exclusion log and what else a notebook needs.
SNAPSHOT_DIR = "tables"
_WAVE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass
class Audit:
    """One client's audit inputs, validated.

    Attributes
    ----------
    dir : Path
        The client folder (``data/<client>``).
    config : AuditConfig
    tables : mapping of DataFrame
        Canonical tables that were supplied (missing tables are absent, not empty). In a run's notebook
        (:func:`load_snapshot`) each is read from the run's files the first time it is used.
    log : DataFrame
        Every problem found, columns ``table, file, row, rule, column, value, excluded``.
    rows_in : dict of int
        Data rows read per table, before any exclusion.
    """

    dir: Path
    config: AuditConfig
    tables: Mapping[str, pd.DataFrame]
    log: pd.DataFrame
    rows_in: dict[str, int]
    files: dict[str, Path] = field(default_factory=dict)
    wave: str | None = None
    #: rows kept per table, known without reading the table (a snapshot's saved counts)
    kept: dict[str, int] = field(default_factory=dict)
    #: tables already written by ``load_audit(spill=...)`` (:meth:`save` moves them instead of writing)
    spilled: _Spill | None = field(default=None, repr=False)
    #: tables kept in the query engine, never read into memory (:mod:`cxaudit.engine_audit`, issue 19)
    engine_tables: dict[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.config.language

    @property
    def name(self) -> str:
        return self.config.client.name

    def segment_label(self, column: str) -> str:
        """The client-facing name of a segment column (``segment_labels`` in audit.yaml)."""
        return self.config.segment_labels.get(column, column)

    def has(self, table: str) -> bool:
        return table in self.tables or table in self.engine_tables

    def is_engine(self, table: str) -> bool:
        """Whether ``table`` is kept in the query engine (:meth:`engine_table`), not in memory."""
        return table in self.engine_tables

    def engine_table(self, name: str) -> Any:
        """The Ibis table of a table kept in the engine (``engine:`` in audit.yaml and a Parquet dataset)."""
        if name not in self.engine_tables:
            raise CxauditError(f"{self.dir / 'audit.yaml'}: the '{name}' input is not kept in the query engine")
        return self.engine_tables[name].table()

    def table(self, name: str) -> pd.DataFrame:
        if name in self.engine_tables:
            et = self.engine_tables[name]
            raise CxauditError(f"the '{name}' table ({et.rows:,} rows) is kept in the query engine, not in memory: "
                               f"use audit.engine_table('{name}') and engine aggregates (cxaudit.engine)")
        if name not in self.tables:
            raise CxauditError(f"{self.dir / 'audit.yaml'}: no '{name}' input is configured for this client")
        return self.tables[name]

    def columns(self, name: str, columns: Sequence[str], *, categories: Sequence[str] = ()) -> pd.DataFrame:
        """Only ``columns`` of table ``name`` (those it has, in its order). In a run's notebook, where the
        table has not been read whole, they are read alone from the run's file, and the ``categories``
        among them come back as pandas categoricals (Arrow dictionary-decoded: a text column of a few
        distinct values over millions of rows takes its codes' size, not its strings'). Otherwise the
        columns of the table in memory are returned as they are, so a caller must accept both.

        The XL demo's event log read whole as text holds 2.4 GB in a kernel; the process analysis reads
        8 of its 9 columns, 5 of them as categoricals (issue 19)."""
        tables = self.tables
        if isinstance(tables, _LazyTables) and not tables.is_read(name):
            if name in self.engine_tables or name not in tables:
                self.table(name)  # the same one-line error
            return tables.read_columns(name, columns, categories)
        return _select(self.table(name), columns)

    @property
    def responses(self) -> pd.DataFrame:
        return self.table("responses")

    @property
    def touchpoint_columns(self) -> list[str]:
        return touchpoint_columns(self.responses)

    def excluded(self) -> pd.DataFrame:
        """One row per excluded data row, with the *first* reason (by rule precedence)."""
        ex = self.log[self.log["excluded"]].copy()
        ex["_order"] = ex["rule"].map({r: i for i, r in enumerate(RULE_ORDER)})
        ex = ex.sort_values(["table", "row", "_order"]).drop_duplicates(["table", "row"])
        return ex.drop(columns="_order").reset_index(drop=True)

    def intake(self, lang: str | None = None) -> pd.DataFrame:
        """Per table: file, rows in, kept, excluded. ``rows_in == kept + excluded`` always holds.

        With ``lang``, a ``table_label`` column gives the table's client-facing name."""
        ex = self.excluded().groupby("table").size()
        out = []
        for name in [*self.tables, *self.engine_tables]:
            n_ex = int(ex.get(name, 0))
            out.append(
                {
                    "table": name,
                    "file": self.files[name].name,
                    "rows_in": self.rows_in[name],
                    "kept": self.kept[name] if name in self.kept else len(self.tables[name]),
                    "excluded": n_ex,
                }
            )
        df = pd.DataFrame(out)
        if lang:
            from .i18n import t

            df["table_label"] = [t(f"table.{name}", lang) for name in df["table"]]
        bad = df[df["rows_in"] != df["kept"] + df["excluded"]]
        if len(bad):  # an internal invariant: would mean a row was lost silently
            raise AssertionError(f"row accounting broken for {bad['table'].tolist()}")
        return df

    def save(self, folder: Path) -> Path:
        """Write the conformed tables, the exclusion log and the accounting to ``folder`` (Parquet + JSON).

        :func:`load_snapshot` reads them back unchanged (same columns, dtypes and rows); the runner
        does this once per run so that notebooks never read or validate the client's files again.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        sp = self.spilled
        if sp is not None:
            sp.move_to(folder)  # written when validated: moved, never read back into memory here
        done = sp.written if sp is not None else {}
        frames = {**{n: self.tables[n] for n in self.tables if n not in done}, "_log": self.log}
        pickled = [name for name, frame in frames.items() if not _write(frame, folder, name)]
        pickled += [n for n, w in done.items() if w.pickled]
        (folder / "_audit.yaml").write_bytes((self.dir / "audit.yaml").read_bytes())
        # Parquet reads text back as pandas' string dtype; remember which columns were plain objects
        objects = {name: [c for c in frame.columns if frame[c].dtype == object] for name, frame in frames.items()}
        objects.update({n: w.objects for n, w in done.items()})
        kept = {name: (self.kept[name] if name in self.kept else len(self.tables[name])) for name in self.tables}
        kept.update({n: et.rows for n, et in self.engine_tables.items()})
        meta = {"dir": str(self.dir), "wave": self.wave, "rows_in": self.rows_in,
                "files": {k: str(v) for k, v in self.files.items()}, "tables": list(self.tables),
                "kept": kept, "object_columns": objects, "pickled": pickled}
        if self.engine_tables:  # kept rows written by the engine; notebooks read them through it
            meta["engine_tables"] = {n: et.to_json(et.save(folder, n)) for n, et in self.engine_tables.items()}
        (folder / "_audit.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        return folder

    def input_hashes(self) -> dict[str, str]:
        """sha256 of audit.yaml, every input file and every other client file that shapes the run
        (rules, codeframe, commentary, logo, slide template: :func:`cxaudit.config.side_files`), for the
        run manifest and the run id."""
        files = {"audit.yaml": self.dir / "audit.yaml", **{k: v for k, v in self.files.items()}}
        files.update({k: p for k, p in side_files(self.dir, self.config).items() if k not in files})
        from .engine_audit import input_hash

        return {k: input_hash(p, k in self.engine_tables) for k, p in files.items()}


def resolve_client(client: str | Path) -> Path:
    """A client name (``"acme"`` -> ``data/acme``) or an explicit folder path."""
    if isinstance(client, Path) or "/" in str(client) or str(client).startswith("."):
        return Path(client).resolve()
    return paths.client_dir(str(client))


def wave_dir(folder: Path, wave: str) -> Path:
    """``<client folder>/waves/<wave>``: where a wave's input files live (same names as in audit.yaml)."""
    if not isinstance(wave, str) or not _WAVE_RE.fullmatch(wave):
        raise CxauditError(f"wave name {wave!r} is not allowed: use letters, digits, '.', '-' or '_'")
    path = folder / "waves" / wave
    if not path.is_dir():
        known = sorted(p.name for p in (folder / "waves").glob("*") if p.is_dir()) if (folder / "waves").is_dir() else []
        raise CxauditError(f"{folder / 'waves'}: no wave {wave!r}"
                           + (f"; waves found: {', '.join(known)}" if known else "; no waves/ folder"))
    return path


def load_audit(client: str | Path = DEMO_CLIENT, *, wave: str | None = None, cache: bool | None = None,
               spill: Path | None = None) -> Audit:
    """Read ``audit.yaml`` and every configured input; validate; build the exclusion log.

    ``client`` is a client name under ``data/`` or a folder path. With ``wave``, the input files are
    read from ``<client>/waves/<wave>/`` (the same file names as in the shared ``audit.yaml``).
    ``cache`` (default: on for a wave): a table whose input file, mapping and validation settings are those
    of an earlier load is read from ``reports/<client>/.cache/conformed/`` (Parquet keyed by the file's
    sha256, :func:`cxaudit.tablecache.cached_conform`) instead of being read and validated again.
    ``spill``: a new folder into which each table is written (as :meth:`Audit.save` writes it) as soon as it
    is validated, and then dropped from memory; the returned audit reads it back on first use, and its
    :meth:`Audit.save` moves the files. Only one table is in memory at a time: the runner loads this way
    (at the XL demo size the process held 5.2 GB of tables through the whole run before, issue 19).
    The demo client is made by ``cxaudit demo`` (or on first use by :func:`cxaudit.start`).

    Raises
    ------
    ConfigError, DataError
        With the file, key/column and row named.
    """
    folder = resolve_client(client)
    if not (folder / "audit.yaml").is_file():
        hint = "run `cxaudit demo`" if str(client) == DEMO_CLIENT else f"run `cxaudit new {folder.name}`"
        raise ConfigError(str(folder / "audit.yaml"), "", f"file not found; {hint}")
    source = wave_dir(folder, wave) if wave is not None else folder
    config = load_config(folder / "audit.yaml", inputs_dir=source)
    tables: dict[str, pd.DataFrame] = {}
    logs: list[pd.DataFrame] = []
    rows_in: dict[str, int] = {}
    files: dict[str, Path] = {}
    cache_dir = paths.reports_root() / folder.name / ".cache" / "conformed" \
        if (wave is not None if cache is None else cache) else None
    sp = _Spill(Path(spill)) if spill is not None else None
    engine_tables: dict[str, Any] = {}
    for name, spec in config.inputs.items():
        from .engine_audit import validate, wants_engine

        if wants_engine(name, spec, source, config):  # kept in the engine, never read into memory (issue 19)
            where = spec.table if spec.table is not None else str(source / spec.file)
            engine_tables[name], log_e, rows_in[name] = validate(name, spec, config, where)
            files[name] = Path(where)
            logs.append(log_e)
            continue
        if spec.table is not None:  # a table in the engine (inputs.<name>.table with engine:), not a file
            kept, log, n_in = _from_engine(name, spec, config)
            tables[name], rows_in[name], files[name] = kept, n_in, Path(spec.table)
            logs.append(log)
            if sp is not None:
                tables[name] = sp.put(name, kept)
                del kept
            continue
        path = source / spec.file

        def compute(name: str = name, path: Path = path, spec: Any = spec) -> tuple[pd.DataFrame, pd.DataFrame, int]:
            raw = read_table(path, spec)
            kept, log = conform(name, raw, spec, config)
            return kept, log, len(raw.frame)

        if cache_dir is not None:
            from .tablecache import cached_conform

            kept, log, n_in = cached_conform(name, path, spec, config, cache_dir, compute)
        else:
            kept, log, n_in = compute()
        tables[name], rows_in[name], files[name] = kept, n_in, path
        logs.append(log)
        if sp is not None:
            tables[name] = sp.put(name, kept)  # only the empty head (columns, dtypes, attrs) stays
            del kept
            release_memory()
    shapes = {**tables, **{n: pd.DataFrame(columns=et.columns) for n, et in engine_tables.items()}}
    check_named_columns(config, shapes, files)  # a column audit.yaml names must be in its table (issue 13)
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=LOG_COLUMNS)
    names = {f: Path(f).name for f in log["file"].unique()}  # a few files, possibly millions of log rows
    log["file"] = log["file"].map(names)
    if sp is None:
        return _with_engine(Audit(folder, config, tables, log, rows_in, files, wave), engine_tables)
    return _with_engine(Audit(folder, config, _LazyTables(list(tables), sp.read, sp.read_columns), log, rows_in, files, wave,
                              {n: w.rows for n, w in sp.written.items()}, spilled=sp), engine_tables)


def in_memory(audit: Any, table: str) -> bool:
    """Whether ``table`` was supplied and is held in memory: false for a table kept in the query engine
    (:meth:`Audit.is_engine`), which sections that need rows then leave out (issue 19)."""
    return bool(audit.has(table)) and not getattr(audit, "is_engine", lambda _t: False)(table)


def _with_engine(audit: Audit, engine_tables: dict[str, Any]) -> Audit:
    """``audit`` with the tables kept in the query engine (:mod:`cxaudit.engine_audit`) and their kept counts."""
    audit.engine_tables = engine_tables
    audit.kept.update({n: et.rows for n, et in engine_tables.items()})
    return audit


def release_memory() -> None:
    """Hand memory freed by dropped tables back to the operating system: Arrow's pool (pandas' text
    columns) keeps freed blocks, and glibc keeps large freed heap areas, so without this a process
    that has dropped a table still shows it in its resident size (measured at the XL demo size: 4.55 GB
    resident after every table was dropped, 0.24 GB after this). A dropped frame can sit in a reference
    cycle, so the cycle collector runs first (2.2 GB resident without it)."""
    import ctypes
    import ctypes.util
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc and sys.platform.startswith("linux"):
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)  # glibc only (absent on musl)
        if trim is not None:
            trim(0)


@dataclass(frozen=True)
class _Written:
    rows: int
    pickled: bool
    objects: list[str]


class _Spill:
    """Tables written by ``load_audit(spill=folder)`` as they were validated, read back on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=False)
        self.written: dict[str, _Written] = {}

    def put(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        parquet = _write(frame, self.folder, name)
        self.written[name] = _Written(len(frame), not parquet, [c for c in frame.columns if frame[c].dtype == object])
        # built anew: a slice, even copied, shares the Arrow buffers of the whole table's text columns
        head = pd.DataFrame({c: pd.Series([], dtype=frame[c].dtype) for c in frame.columns}, index=frame.index[:0])
        head.columns = frame.columns
        head.attrs = dict(frame.attrs)
        return head

    def read(self, name: str) -> pd.DataFrame:
        w = self.written[name]
        return _read_saved(self.folder, name, w.pickled, w.objects)

    def read_columns(self, name: str, columns: Sequence[str], categories: Sequence[str]) -> pd.DataFrame:
        w = self.written[name]
        return _read_saved(self.folder, name, w.pickled, w.objects, columns, categories)

    def move_to(self, folder: Path) -> None:
        """Move the written files into ``folder`` (later reads follow them); the spill folder is removed."""
        if folder.resolve() == self.folder.resolve():
            return
        for name, w in self.written.items():
            f = f"{name}.{'pkl' if w.pickled else 'parquet'}"
            shutil.move(str(self.folder / f), str(folder / f))
        self.folder.rmdir()
        self.folder = folder


def _from_engine(name: str, spec: Any, config: AuditConfig) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The rows of a table named in the engine (``inputs.<name>.table``, :mod:`cxaudit.engine`), read as
    text cells and validated by :func:`cxaudit.schema.conform` exactly like a file's rows (row numbers
    are 1-based positions in the engine's result). For tables that fit in memory; larger ones are
    aggregated in the engine instead (``cxaudit.engine``)."""
    from .engine import connect, source
    from .io._base import RawTable, rows_series

    frame = source(connect(config.engine), spec.table).to_pandas()
    raw = RawTable(frame.astype("string"), rows_series(len(frame), 1), Path(spec.table), {"format": "engine"})
    kept, log = conform(name, raw, spec, config)
    return kept, log, len(frame)


def _write(frame: pd.DataFrame, folder: Path, name: str) -> bool:
    """``frame`` as ``<name>.parquet``; False (and ``<name>.pkl`` instead) when Parquet cannot hold it: an
    object column of a client's extra data that mixes Python types (numbers and text), which Arrow refuses."""
    import pyarrow as pa

    try:
        frame.to_parquet(folder / f"{name}.parquet")
        return True
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        (folder / f"{name}.parquet").unlink(missing_ok=True)
        frame.to_pickle(folder / f"{name}.pkl")
        return False


def load_snapshot(folder: Path) -> Audit:
    """The :class:`Audit` a run saved with :meth:`Audit.save` (no client file is read or validated)."""
    folder = Path(folder)
    meta = json.loads((folder / "_audit.json").read_text(encoding="utf-8"))
    config = load_config(folder / "_audit.yaml", check_files=False)
    objects = meta.get("object_columns", {})

    def read(name: str) -> pd.DataFrame:
        return _read_saved(folder, name, name in meta.get("pickled", []), objects.get(name, []))

    def read_columns(name: str, columns: Sequence[str], categories: Sequence[str]) -> pd.DataFrame:
        return _read_saved(folder, name, name in meta.get("pickled", []), objects.get(name, []), columns, categories)

    log = read("_log")
    audit = Audit(Path(meta["dir"]), config, _LazyTables(meta["tables"], read, read_columns), log,
                  {k: int(v) for k, v in meta["rows_in"].items()}, {k: Path(v) for k, v in meta["files"].items()},
                  meta.get("wave"), {k: int(v) for k, v in meta.get("kept", {}).items()})
    if meta.get("engine_tables"):  # tables kept in the query engine: read through it on first use
        from .engine_audit import EngineTable

        audit.engine_tables = {n: EngineTable.from_json(m, folder) for n, m in meta["engine_tables"].items()}
    return audit


def _select(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` that ``frame`` has, in its order."""
    wanted = set(columns)
    return frame[[c for c in frame.columns if c in wanted]]


def _read_saved(folder: Path, name: str, pickled: bool, objects: list[str], columns: Sequence[str] | None = None,
                categories: Sequence[str] = ()) -> pd.DataFrame:
    """A table as :meth:`Audit.save` wrote it (``objects``: columns that were plain objects); with
    ``columns``, only those, the ``categories`` among them as categoricals (:meth:`Audit.columns`)."""
    if pickled:
        frame = pd.read_pickle(folder / f"{name}.pkl")  # the run's own file, written by Audit.save
        return frame if columns is None else _select(frame, columns)
    path = folder / f"{name}.parquet"
    if columns is None:
        frame = pd.read_parquet(path)
    else:
        import pyarrow.parquet as pq

        wanted, coded = set(columns), set(categories)
        present = [c for c in pq.read_schema(path).names if c in wanted]
        cats = [c for c in present if c in coded and c not in objects]
        frame = pd.read_parquet(path, columns=present, read_dictionary=cats)
    release_memory()  # Arrow's pool keeps the file's decoding buffers (1.4 GB for the XL event log)
    plain = [c for c in frame.columns if c in objects]
    if plain:
        frame[plain] = frame[plain].astype(object).where(frame[plain].notna(), None)
    return frame


class _LazyTables(Mapping[str, pd.DataFrame]):
    """A snapshot's tables, each read from its file the first time it is asked for, then kept.

    A notebook holds only the tables it uses: at the XL demo size every table together is ~2.1 GB per
    kernel, the responses alone ~0.3 GB (issue 19). Names, ``in`` and ``len`` read nothing."""

    def __init__(self, names: list[str], read: Callable[[str], pd.DataFrame],
                 read_columns: Callable[[str, Sequence[str], Sequence[str]], pd.DataFrame]) -> None:
        self._names = list(names)
        self._read = read
        self._read_columns = read_columns
        self._frames: dict[str, pd.DataFrame] = {}

    def is_read(self, name: str) -> bool:
        return name in self._frames

    def read_columns(self, name: str, columns: Sequence[str], categories: Sequence[str]) -> pd.DataFrame:
        """Some columns of a table not read yet (not kept: the whole table is read on its first use)."""
        return self._read_columns(name, columns, categories)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            if name not in self._names:
                raise KeyError(name)
            self._frames[name] = self._read(name)
        return self._frames[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<tables {', '.join(n + ('' if n in self._frames else ' (not read)') for n in self._names)}>"
