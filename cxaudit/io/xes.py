"""XES event logs (IEEE 1849-2016, eXtensible Event Stream) -> the ``events`` table's raw text cells.

An XES file is XML: a ``<log>`` of ``<trace>`` elements (one per case), each holding its attributes
and its ``<event>`` elements, each event holding typed attributes (``<string key=… value=…/>``,
``<date>``, ``<int>``, ``<float>``, ``<boolean>``, ``<id>``). The reader streams the file
(:func:`defusedxml.ElementTree.iterparse`, DTDs and entity declarations refused, each trace freed
once read), so a log of millions of events is never held as a tree.

One row per event. The attributes of the standard extensions get the canonical names of the
``events`` table; every other attribute keeps its key as the column name (an event attribute wins
over a trace attribute of the same key):

===================================  ===========================
XES attribute                        column
===================================  ===========================
trace ``concept:name``               ``case_id``
event ``concept:name``               ``activity``
event ``time:timestamp``             ``timestamp`` (as written)
event ``org:resource``               ``resource``
event ``org:group``                  ``department``
event ``org:role``                   ``role``
event ``lifecycle:transition``       ``lifecycle``
===================================  ===========================

Row numbers (:attr:`~cxaudit.io.RawTable.source_rows`) are the event's position in the file
(1 = its first event): XML has no rows, and an analyst finds the n-th ``<event>`` with any XML tool.

Source: IEEE Std 1849-2016, *IEEE Standard for eXtensible Event Stream (XES) for Achieving
Interoperability in Event Logs and Event Streams*; the concept / time / organizational / lifecycle
extensions it defines.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.xes"
>>> _ = p.write_text('<?xml version="1.0"?><log xes.version="1.0" xmlns="http://www.xes-standard.org/">'
...   '<trace><string key="concept:name" value="c1"/>'
...   '<event><string key="concept:name" value="Open"/><date key="time:timestamp" value="2025-01-02T10:00:00"/>'
...   '<string key="org:group" value="Support"/></event></trace></log>', encoding="utf-8")
>>> read_xes(p).frame.to_dict("records")
[{'case_id': 'c1', 'activity': 'Open', 'timestamp': '2025-01-02T10:00:00', 'department': 'Support'}]
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..config import InputSpec
from ..errors import DataError
from ._base import RawTable, register_reader, rows_series

__all__ = ["read_xes", "XES_KEYS"]

#: XES attribute keys of the standard extensions -> canonical ``events`` columns.
XES_KEYS: dict[str, str] = {
    "time:timestamp": "timestamp",
    "org:resource": "resource",
    "org:group": "department",
    "org:role": "role",
    "lifecycle:transition": "lifecycle",
}
_ATTRIBUTE_TAGS = {"string", "date", "int", "float", "boolean", "id"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@register_reader("xes", (".xes",))
def read_xes(path: Path, spec: InputSpec | None = None) -> RawTable:
    """Read an XES log: one text row per event (see the module docstring for the columns).

    Raises
    ------
    DataError
        Not well-formed XML (with the line and column), a DTD or entity declaration (refused), no
        ``<log>`` root, or no event at all.
    """
    path = Path(path)
    rows: list[dict[str, str]] = []
    trace_attrs: dict[str, str] = {}
    event_attrs: dict[str, str] | None = None
    stack: list[str] = []
    n_traces = 0
    try:
        for ev, elem in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            tag = _local(elem.tag)
            if ev == "start":
                if not stack and tag != "log":
                    raise DataError(str(path), f"root element is <{tag}>, not <log>; expected an XES event log")
                stack.append(tag)
                if tag == "trace":
                    trace_attrs, n_traces = {}, n_traces + 1
                elif tag == "event":
                    event_attrs = {}
                continue
            stack.pop()
            parent = stack[-1] if stack else ""
            if tag in _ATTRIBUTE_TAGS and "key" in elem.attrib:
                key, value = elem.attrib["key"], elem.attrib.get("value")
                if value is None:
                    continue
                if parent == "event" and event_attrs is not None:
                    event_attrs["activity" if key == "concept:name" else XES_KEYS.get(key, key)] = value
                elif parent == "trace":
                    trace_attrs["case_id" if key == "concept:name" else XES_KEYS.get(key, key)] = value
            elif tag == "event" and parent == "trace" and event_attrs is not None:
                rows.append({**trace_attrs, **event_attrs})
                event_attrs = None
                elem.clear()
            elif tag == "trace":
                elem.clear()
    except ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise DataError(str(path), f"not well-formed XML at line {line}, column {col}; expected an XES event "
                        "log", row=line) from None
    except DefusedXmlException as exc:
        raise DataError(str(path), f"refused: the XML declares a DTD or entities ({type(exc).__name__}); an XES "
                        "log needs neither") from None
    if not rows:
        raise DataError(str(path), f"no events in the log ({n_traces} traces); expected <trace> elements "
                        "holding <event> elements")
    cols = list(dict.fromkeys(k for r in rows[:1] for k in ("case_id", "activity", "timestamp") if k in r))
    cols += list(dict.fromkeys(k for r in rows for k in r if k not in cols))
    frame = pd.DataFrame.from_records(rows, columns=cols).astype("string")
    meta = {"format": "xes", "traces": n_traces,
            "notes": [f"{n_traces} traces, {len(rows)} events; a row number is the event's position in the file"]}
    return RawTable(frame, rows_series(len(frame), 1), path, meta)
