"""A canonical table kept in the query engine (issue 19): validated there, never read into pandas.

When audit.yaml sets ``engine:`` and the ``customers`` input is a folder of Parquet files (a dataset),
a table of the engine (``inputs.customers.table``), or a Parquet file of at least ``engine.min_rows``
rows, :func:`cxaudit.audit.load_audit` does not read it into memory. Instead :func:`validate` runs the
schema's rules for the table (:data:`cxaudit.schema.TABLES`) as SQL in the engine:

- ``missing_required`` (a required cell missing or blank), ``invalid_value`` (a number or a yes/no flag
  that cannot be read), ``invalid_date`` (a date that cannot be read: text cells must be ISO dates in
  the engine), ``duplicate_id`` (an id seen on an earlier row; rows are numbered by file name and row
  in the file, 1-based over the dataset);
- each row's flags are computed once and staged as Parquet (:func:`tempfile.mkdtemp`), the counts
  by rule come from one aggregate (:func:`cxaudit.engine.rule_counts`) and only the bad rows are
  fetched for the exclusion log; rows in = kept + excluded holds as for a file;
- the kept rows stay an Ibis expression (:class:`EngineTable`); :meth:`cxaudit.audit.Audit.save`
  writes them to the run's folder as one Parquet file and every notebook reads that file through the
  engine (``audit.engine_table("customers")``).

``audit.yaml``'s ``bands`` whose source column is in the table are added as ``CASE`` expressions
(:func:`cxaudit.schema.apply_variables`'s rule: ``[lower, upper)``, the last band closed).

What the in-memory path does and this one does not: the row-level quality checks of
:func:`cxaudit.checks.row_checks` (none apply to customers), day-first or mixed text date formats,
a decimal comma in text numbers, and line-number ids for a table without an id column.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .config import AuditConfig, band_labels
from .engine import EngineSpec, connect, dataset_files, rule_counts, source
from .errors import DataError
from .schema import ALWAYS_EXCLUDED, LOG_COLUMNS, MAX_LOGGED_CHARS, TABLES, check_intake

__all__ = ["EngineTable", "ENGINE_TABLES", "DEFAULT_MIN_ROWS", "wants_engine", "validate", "connection",
           "spec_dict", "input_hash", "folder_hash"]

#: Tables that may be kept in the engine (the others are read into memory as before).
ENGINE_TABLES: tuple[str, ...] = ("customers",)
#: A Parquet file with at least this many rows is kept in the engine (audit.yaml ``engine.min_rows``).
DEFAULT_MIN_ROWS: int = 2_000_000
_TRUE = ("1", "true", "yes", "y", "t", "да", "tak", "prawda", "истина", "finished", "complete")
_FALSE = ("0", "false", "no", "n", "f", "нет", "nie", "fałsz", "ложь")
_CONNECTIONS: dict[str, Any] = {}
_STAGING: list[str] = []


def spec_dict(engine: Any) -> dict[str, Any]:
    """audit.yaml's ``engine`` settings as a plain mapping (JSON for the run snapshot)."""
    s = EngineSpec.of(engine)
    return {"backend": s.backend, "url": s.url, "options": dict(s.options)}


def connection(engine: Any) -> Any:
    """One engine connection per process and settings (DuckDB spills to a temporary folder, never the
    working directory)."""
    spec = spec_dict(engine)
    key = json.dumps(spec, sort_keys=True, default=str)
    if key not in _CONNECTIONS:
        if spec["backend"] == "duckdb" and not spec["url"] and "temp_directory" not in spec["options"]:
            spec = {**spec, "options": {**spec["options"], "temp_directory": _staging_dir("duckdb-spill-")}}
        _CONNECTIONS[key] = connect(spec)
    return _CONNECTIONS[key]


def _staging_dir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=f"cxaudit-{prefix}")
    if not _STAGING:
        atexit.register(_cleanup)
    _STAGING.append(path)
    return path


def _cleanup() -> None:
    for path in _STAGING:
        shutil.rmtree(path, ignore_errors=True)


def _remove_stage(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path in _STAGING:
        _STAGING.remove(path)


@dataclass
class EngineTable:
    """A validated table in the engine: ``expr`` (an Ibis table) while the run loads it, else ``where``
    (the run's Parquet file) read through ``engine`` on first use. ``rows`` kept, ``columns`` in order;
    ``kind`` what the client supplied: ``parquet`` (one file), ``parquet_dataset`` (a folder of Parquet
    files) or ``engine_table`` (a table of the engine, ``inputs.<name>.table``)."""

    where: str | None
    engine: dict[str, Any]
    rows: int
    columns: list[str]
    expr: Any = field(default=None, repr=False)
    kind: str = "parquet"
    #: the temporary folder holding the staged copy of the client's rows that ``expr`` reads (personal
    #: data): removed by :meth:`save` once the kept rows are written, else when the process exits
    stage: str | None = field(default=None, repr=False)

    def table(self) -> Any:
        if self.expr is None:
            if self.where is None:
                raise DataError("engine", "an engine table without a location")
            self.expr = source(connection(self.engine), self.where)
        return self.expr

    def to_json(self, where: str) -> dict[str, Any]:
        return {"where": where, "engine": self.engine, "rows": self.rows, "columns": self.columns, "kind": self.kind}

    @classmethod
    def from_json(cls, meta: dict[str, Any], folder: Path) -> EngineTable:
        return cls(str(folder / meta["where"]), dict(meta["engine"]), int(meta["rows"]), list(meta["columns"]),
                   kind=str(meta.get("kind", "parquet")))

    def save(self, folder: Path, name: str) -> str:
        """Write the kept rows to ``folder/<name>.parquet`` (streamed by the engine); the file name."""
        t = self.table()
        path = folder / f"{name}.parquet"
        t.get_backend().to_parquet(t, path)
        if self.stage is not None:  # from now on the rows are read from the run's file
            self.where, self.expr = str(path), None
            _remove_stage(self.stage)
            self.stage = None
        return path.name


def min_rows(config: AuditConfig) -> int:
    value = getattr(config.engine, "min_rows", None)
    return DEFAULT_MIN_ROWS if value is None else int(value)


def wants_engine(name: str, spec: Any, source_dir: Path, config: AuditConfig) -> bool:
    """Whether input ``name`` stays in the engine: ``engine:`` is set, the table may be kept there
    (:data:`ENGINE_TABLES`), and it is a table of the engine, a folder of Parquet files or a Parquet
    file of at least ``engine.min_rows`` rows (read from the file's footer)."""
    if config.engine is None or name not in ENGINE_TABLES:
        return False
    if spec.table is not None:
        return True
    path = source_dir / spec.file
    big = path.is_dir() or (path.suffix.lower() == ".parquet" and path.is_file()
                            and _parquet_rows(path) >= min_rows(config))
    if big and (config.engine.backend != "duckdb" or config.engine.url):
        # the files are numbered (file, row in file) for the exclusion log with DuckDB's read_parquet
        from .errors import ConfigError

        raise ConfigError(str(path), f"inputs.{name}.file",
                          f"Parquet files kept in the engine are read with engine: duckdb; with another engine, "
                          f"name a table of that engine instead (inputs.{name}.table)")
    return big


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def input_hash(path: Path, in_engine: bool = False) -> str:
    """sha256 of an input for the manifest: a file's bytes, a dataset folder's files (:func:`folder_hash`),
    or ``engine:<name>`` for a table of the engine (its content is the warehouse's)."""
    if path.is_dir():
        return folder_hash(path)
    if in_engine and not path.exists():
        return f"engine:{path}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_hash(path: Path) -> str:
    """sha256 over the sorted Parquet files of a dataset folder (their names and bytes), for the manifest."""
    h = hashlib.sha256()
    for f in dataset_files(path):  # no link followed, nothing outside the folder
        h.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def _numbered(con: Any, where: str, root: Path | None = None, id_column: str | None = None) -> tuple[Any, str]:
    """The raw table with ``_row`` (1-based position over the dataset: files by name, then row in file).

    A table of the engine has no row order of its own (``row_number()`` without ``ORDER BY`` numbers
    rows in whatever order the engine scans them, which can change from run to run): its rows are
    numbered in order of ``id_column`` (the id's source column), then of every other column, so the
    numbers, and which of two rows with the same id is kept as the first (:func:`validate`'s
    ``duplicate_id``), are the same on every run; only rows identical in every column tie.

    A dataset folder's files are listed in Python (:func:`cxaudit.engine.dataset_files`: no symbolic
    link, nothing outside ``root``, the client's folder) and the engine reads exactly that list."""
    import ibis

    path = Path(where)
    if path.is_dir() or path.suffix.lower() == ".parquet":
        if path.is_dir():
            files: Any = [str(f) for f in dataset_files(path, root)]
            if not files:
                raise DataError(str(path), "the folder holds no .parquet file")
        else:
            if path.is_symlink() or (root is not None and not path.resolve().is_relative_to(root.resolve())):
                raise DataError(str(path), "the file is a symbolic link or lies outside the client folder")
            files = str(path)
        raw = con.read_parquet(files, filename=True, file_row_number=True)
        sizes = raw.group_by("filename").aggregate(_n=raw.count()).to_pandas().sort_values("filename")
        sizes["_off"] = sizes["_n"].cumsum() - sizes["_n"]
        offsets = ibis.memtable(sizes[["filename", "_off"]].rename(columns={"filename": "_file"}))
        j = raw.join(offsets, raw.filename == offsets._file)
        t = j.mutate(_row=(j._off + j.file_row_number + 1).cast("int64")).drop("filename", "file_row_number",
                                                                            "_file", "_off")
        return t, path.name
    t = source(con, where)
    order = ([id_column] if id_column in t.columns else []) + [c for c in t.columns if c != id_column]
    return t.mutate(_row=(ibis.row_number().over(order_by=[t[c] for c in order]) + 1).cast("int64")), where


def _client_root(where: str, spec: Any) -> Path | None:
    """The client's folder of a file input (``where`` is ``<client folder>/<inputs.<name>.file>``)."""
    rel = Path(str(getattr(spec, "file", "") or ""))
    if spec.table is not None or not str(rel) or rel.is_absolute() or ".." in rel.parts:
        return None
    root = Path(where)
    for _ in rel.parts:
        root = root.parent
    return root


def _text(col: Any) -> Any:
    return col.cast("string").strip()


def _typed(c: Any, col: str, rule: str, to: str, flags: list[tuple[str, str, Any]]) -> Any:
    """Column ``c`` as ``to`` (a date or a number); a text cell that is not blank and cannot be read
    flags ``rule`` (appended to ``flags``), a column of another type is cast."""
    if not c.type().is_string():
        return c.cast(to)
    parsed = _text(c).try_cast(to)
    flags.append((rule, col, c.notnull() & (_text(c) != "") & parsed.isnull()))
    return parsed


def validate(name: str, spec: Any, config: AuditConfig, where: str) -> tuple[EngineTable, pd.DataFrame, int]:
    """Validate input ``name`` in the engine; the kept rows as an :class:`EngineTable`, the exclusion log
    (:data:`cxaudit.schema.LOG_COLUMNS`, only the bad rows) and the number of rows read.

    Raises
    ------
    DataError
        A required column missing, or more rows excluded than ``quality.max_excluded_share``.
    """
    import ibis

    con = connection(config.engine)
    tspec = TABLES[name]
    id_src = spec.columns.get(tspec.id_column, tspec.id_column) if tspec.id_column else None
    raw, file = _numbered(con, where, _client_root(where, spec), id_src)
    rename = {}
    for canonical, src in spec.columns.items():
        if src not in raw.columns:
            raise DataError(file, f"column {src!r} of inputs.{name}.columns.{canonical} not found "
                                  f"(the table has: {', '.join(c for c in raw.columns if c != '_row')})", column=src)
        rename[canonical] = src
    t = raw.rename(rename) if rename else raw
    for col in tspec.required:
        if col not in t.columns:
            raise DataError(file, f"required column '{col}' missing; map it in inputs.{name}.columns "
                                  f"(the table has: {', '.join(c for c in t.columns if c != '_row')})", column=col)
    if tspec.id_column:
        # an id seen on an earlier row: the first row of each repeated id from one aggregate (a hash
        # aggregate spills to disk; a window over every row would sort them all), joined back as _first
        keyed = t.mutate(_id=_text(t[tspec.id_column]))
        keyed = keyed.filter(keyed._id.notnull() & (keyed._id != ""))
        repeated = keyed.group_by("_id").aggregate(_first=keyed._row.min(), _n=keyed.count())
        repeated = repeated.filter(repeated._n > 1).select("_id", "_first").to_pandas()  # the repeated ids only
        small = ibis.memtable(repeated.astype({"_id": "string", "_first": "int64"}))
        t = t.left_join(small, _text(t[tspec.id_column]) == small._id).drop("_id")
    flags: list[tuple[str, str, Any]] = []  # rule, column, bad-row expression
    typed: dict[str, Any] = {}
    for col in tspec.required:
        c = t[col]
        flags.append(("missing_required", col, c.isnull() | (_text(c) == "")))
    for cols_, rule, to in ((tspec.dates, "invalid_date", "timestamp"), (tspec.numbers, "invalid_value", "float64")):
        for col in [c for c in cols_ if c in t.columns]:
            typed[col] = _typed(t[col], col, rule, to, flags)
    for col in [c for c in tspec.booleans if c in t.columns]:
        c = t[col]
        if c.type().is_boolean():
            typed[col] = c
            continue
        low = _text(c).lower()
        val = ibis.cases((low.isin(list(_TRUE)), True), (low.isin(list(_FALSE)), False),
                         else_=ibis.null("boolean"))
        flags.append(("invalid_value", col, c.notnull() & (low != "") & val.isnull()))
        typed[col] = val
    if tspec.id_column:
        typed[tspec.id_column] = _text(t[tspec.id_column])
        flags.append(("duplicate_id", tspec.id_column, t._first.notnull() & (t._row > t._first)))
    cols = [c for c in t.columns if c not in ("_row", "_first")]
    parsed_text = [c for c in typed if c in t.columns and t[c].type().is_string()]  # logged as read
    staged = t.select(t._row, *[typed[c].name(c) if c in typed else t[c] for c in cols],
                      *[t[c].name(f"_raw_{c}") for c in parsed_text],
                      *[e.fill_null(False).name(f"_f{i}") for i, (_, _, e) in enumerate(flags)])
    # the staged copy of the client's rows (personal data) lives in <temp dir>/cxaudit-<name>-*/<name>.parquet
    # (tempfile.gettempdir()); it is removed when validation fails, and by EngineTable.save once the kept
    # rows are written to the run's folder (else at the process's exit)
    kind = "engine_table" if spec.table is not None else "parquet_dataset" if Path(where).is_dir() else "parquet"
    stage_dir = _staging_dir(f"{name}-")
    try:
        return _validate_staged(name, config, con, staged, stage_dir, flags, file, parsed_text, kind)
    except BaseException:
        _remove_stage(stage_dir)
        raise


def _validate_staged(name: str, config: AuditConfig, con: Any, staged: Any, stage_dir: str,
                     flags: list[tuple[str, str, Any]], file: str,
                     parsed_text: list[str], kind: str) -> tuple[EngineTable, pd.DataFrame, int]:
    """:func:`validate` from the staged rows: the counts by rule, the exclusion log, the kept rows."""
    import ibis

    excluded_rules = set(config.quality.exclude) | set(ALWAYS_EXCLUDED)

    stage = str(Path(stage_dir) / f"{name}.parquet")
    con.to_parquet(staged, stage)
    st = con.read_parquet(stage)
    counts = rule_counts(st, {f"_f{i}": st[f"_f{i}"] for i in range(len(flags))})
    n_in = int(counts["rows"])
    logs = []
    for i, (rule, col, _) in enumerate(flags):
        if not int(counts[f"_f{i}"]):
            continue
        shown = st[f"_raw_{col}"] if f"_raw_{col}" in st.columns else st[col]
        bad = st.filter(st[f"_f{i}"]).select(row=st._row, value=shown.cast("string").substr(0, MAX_LOGGED_CHARS).fill_null(""))
        bad = bad.order_by("row").to_pandas()
        logs.append(pd.DataFrame({"table": name, "file": file, "row": bad["row"].astype("int64"), "rule": rule,
                                  "column": col, "value": bad["value"].astype(object).where(bad["value"].notna(), None),
                                  "excluded": rule in excluded_rules}))
    # no bad row: the empty log of schema.conform (text columns as objects, ``excluded`` boolean), so
    # that Audit.excluded() can select rows by ``excluded``
    empty = pd.DataFrame({c: pd.Series(dtype=bool if c == "excluded" else object) for c in LOG_COLUMNS})
    log = pd.concat(logs, ignore_index=True) if logs else empty
    drop = [st[f"_f{i}"] for i, (rule, _, _) in enumerate(flags) if rule in excluded_rules]
    keep = ~ibis.or_(*drop) if drop else ibis.literal(True)
    kept = st.filter(keep).drop(*[f"_f{i}" for i in range(len(flags))], *[f"_raw_{c}" for c in parsed_text])
    kept = _with_bands(kept, config)
    n_kept = int(kept.count().execute())
    check_intake(name, file, n_in, n_kept, config)
    table = EngineTable(None, spec_dict(config.engine), n_kept, list(kept.columns), kept, kind, stage_dir)
    return table, log[LOG_COLUMNS], n_in


def _with_bands(t: Any, config: AuditConfig) -> Any:
    """audit.yaml's ``bands`` over the engine table (the rule of :func:`cxaudit.schema.apply_variables`)."""
    import ibis

    added = {}
    for name, band in config.bands.items():
        if band.source not in t.columns:
            continue
        x = t[band.source].cast("float64")
        edges = [float(e) for e in band.edges]
        labels = band_labels(band)
        cases = [((x >= edges[i]) & (x < edges[i + 1]), labels[i]) for i in range(len(edges) - 1)]
        cases.append((x == edges[-1], labels[-1]))
        added[name] = ibis.cases(*cases, else_=ibis.null("string"))
    return t.mutate(**added) if added else t
