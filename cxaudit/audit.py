"""``load_audit``: a client folder -> validated canonical tables + the exclusion log.

Examples
--------
>>> audit = load_audit("demo")                       # doctest: +SKIP
>>> audit.responses.shape, audit.intake()            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import paths
from .config import AuditConfig, load_config
from .errors import CxauditError
from .io import read_table
from .schema import LOG_COLUMNS, RULE_ORDER, conform, touchpoint_columns

__all__ = ["Audit", "load_audit", "resolve_client", "DEMO_CLIENT"]

DEMO_CLIENT = "demo"


@dataclass
class Audit:
    """One client's audit inputs, validated.

    Attributes
    ----------
    dir : Path
        The client folder (``data/<client>``).
    config : AuditConfig
    tables : dict of DataFrame
        Canonical tables that were supplied (missing tables are absent, not empty).
    log : DataFrame
        Every problem found, columns ``table, file, row, rule, column, value, excluded``.
    rows_in : dict of int
        Data rows read per table, before any exclusion.
    """

    dir: Path
    config: AuditConfig
    tables: dict[str, pd.DataFrame]
    log: pd.DataFrame
    rows_in: dict[str, int]
    files: dict[str, Path] = field(default_factory=dict)

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
        return table in self.tables

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise CxauditError(f"{self.dir / 'audit.yaml'}: no '{name}' input is configured for this client")
        return self.tables[name]

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
        for name, frame in self.tables.items():
            n_ex = int(ex.get(name, 0))
            out.append(
                {
                    "table": name,
                    "file": self.files[name].name,
                    "rows_in": self.rows_in[name],
                    "kept": len(frame),
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

    def input_hashes(self) -> dict[str, str]:
        """sha256 of audit.yaml and every input file (for the run manifest)."""
        files = {"audit.yaml": self.dir / "audit.yaml", **{k: v for k, v in self.files.items()}}
        return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}


def resolve_client(client: str | Path) -> Path:
    """A client name (``"acme"`` -> ``data/acme``) or an explicit folder path."""
    if isinstance(client, Path) or "/" in str(client) or str(client).startswith("."):
        return Path(client).resolve()
    return paths.client_dir(str(client))


def load_audit(client: str | Path = DEMO_CLIENT) -> Audit:
    """Read ``audit.yaml`` and every configured input; validate; build the exclusion log.

    ``client`` is a client name under ``data/`` or a folder path. The demo client is generated on
    first use, so notebooks run out of the box.

    Raises
    ------
    ConfigError, DataError
        With the file, key/column and row named.
    """
    folder = resolve_client(client)
    if str(client) == DEMO_CLIENT and not (folder / "audit.yaml").exists():
        from .demo import generate_demo

        print(f"cxaudit: {folder} not found, generating the demo client", file=sys.stderr)
        generate_demo(folder)
    config = load_config(folder / "audit.yaml")
    tables: dict[str, pd.DataFrame] = {}
    logs: list[pd.DataFrame] = []
    rows_in: dict[str, int] = {}
    files: dict[str, Path] = {}
    for name, spec in config.inputs.items():
        path = folder / spec.file
        raw = read_table(path, spec)
        kept, log = conform(name, raw, spec, config)
        tables[name], rows_in[name], files[name] = kept, len(raw.frame), path
        logs.append(log)
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=LOG_COLUMNS)
    names = {f: Path(f).name for f in log["file"].unique()}  # a few files, possibly millions of log rows
    log["file"] = log["file"].map(names)
    return Audit(folder, config, tables, log, rows_in, files)
