"""Compare the findings of two runs, dates, run ids, timestamps and paths masked.

    python bench/findings_diff.py RUN_A RUN_B [--only churn,tobe] [--quiet]

RUN_A / RUN_B are run folders (``reports/<client>/<run id>``). Every ``findings/NN_*.json`` of either
run (and the run's combined ``findings.json``) is read; each finding is keyed by its ``id`` and
flattened to ``field.path -> value``. Before comparing, text values are masked: ISO dates and
timestamps (``2026-01-31``, ``2026-01``, ``2026-01-31T12:00:00Z``), run ids
(``20261204T180828Z-809178cd``), month labels of any report language ("Jan 2026", "янв 2026",
"sty 2026") and absolute paths under a temporary folder. Numbers are compared exactly (the refactor
this checks must not change a single bit of any number).

Prints every finding present in one run only and every differing field (``id  field: A -> B``),
grouped by notebook, and exits 1 when anything differs (0 when identical). ``--only`` restricts the
comparison to finding ids starting with one of the given prefixes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

_MONTHS = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|янв|фев|мар|апр|май|мая|июн|июл|авг|сен|окт|ноя|дек"
           r"|sty|lut|kwi|maj|cze|lip|sie|wrz|paź|lis|gru)[a-zа-яąćęłńóśźż]*\.?")
_MASKS = [
    (re.compile(r"\b\d{8}T\d{6}Z(?:-[0-9a-f]{8})?\b"), "<RUN>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"), "<DATE>"),
    (re.compile(r"\b\d{4}-\d{2}\b"), "<MONTH>"),
    (re.compile(_MONTHS + r"[\s\u00a0]+\d{4}\b", re.IGNORECASE), "<MONTH>"),
    (re.compile(r"/tmp/[^\s\"']+"), "<PATH>"),
]


def mask(text: str) -> str:
    """``text`` with dates, run ids, month labels and temporary paths replaced by placeholders.

    >>> mask("run 20261204T180828Z-809178cd from 2025-01-01 to Jan 2026, янв\\u00a02026")
    'run <RUN> from <DATE> to <MONTH>, <MONTH>'
    """
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return text


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts / lists as ``a.b[0].c -> leaf`` (strings masked)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out |= flatten(v, f"{prefix}[{i}]")
        return out if value else {prefix: []}
    return {prefix: mask(value) if isinstance(value, str) else value}


def load(run: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``file name -> finding id -> flattened finding`` for every findings file of ``run``."""
    files = sorted((run / "findings").glob("*.json"))
    if (run / "findings.json").exists():
        files.append(run / "findings.json")
    if not files:
        raise SystemExit(f"findings_diff: no findings/*.json or findings.json in {run}")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for f in files:
        name = "findings.json" if f.parent == run else f"findings/{f.name}"
        items = json.loads(f.read_text(encoding="utf-8"))
        out[name] = {str(x.get("id")): flatten(x) for x in items}
    return out


def compare(a: Path, b: Path, only: tuple[str, ...] = ()) -> list[str]:
    """Lines describing every difference between the findings of runs ``a`` and ``b`` (empty: identical)."""
    fa, fb = load(a), load(b)
    lines: list[str] = []
    for name in sorted(set(fa) | set(fb)):
        if name not in fa or name not in fb:
            lines.append(f"{name}: only in {'A' if name in fa else 'B'}")
            continue
        ids = sorted(i for i in set(fa[name]) | set(fb[name]) if not only or i.startswith(only))
        for fid in ids:
            if fid not in fa[name] or fid not in fb[name]:
                lines.append(f"{name}  {fid}: only in {'A' if fid in fa[name] else 'B'}")
                continue
            x, y = fa[name][fid], fb[name][fid]
            for key in sorted(set(x) | set(y)):
                vx, vy = x.get(key, "<absent>"), y.get(key, "<absent>")
                if vx != vy or type(vx) is not type(vy):
                    lines.append(f"{name}  {fid}  {key}: {vx!r} -> {vy!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    ap.add_argument("--only", default="", help="comma-separated finding id prefixes (e.g. churn,tobe)")
    ap.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = ap.parse_args(argv)
    only = tuple(p for p in args.only.split(",") if p)
    lines = compare(args.run_a, args.run_b, only)
    if not args.quiet:
        print("\n".join(lines))
    n_find = len({(ln.split("  ")[0], ln.split("  ")[1].split(":")[0]) for ln in lines if "  " in ln})
    print(f"findings_diff: {'identical' if not lines else f'{len(lines)} difference(s) in {n_find} finding(s)'}"
          f"{' (ids ' + ','.join(only) + '*)' if only else ''}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
