"""TO-BE service blueprints as BPMN 2.0 processes with diagram interchange, laid out by Graphviz.

For each of the top pain-point touchpoints that the TO-BE recommendations address (``tobe.json`` of the
run, written by :func:`cxaudit.recommend.save_tobe`), :func:`build_blueprint` makes one process:

* **lanes** -- the customer, the front stage (who answers the customer: the department of the cases'
  first step in the event log, else the touchpoint's channel), the back stage (the touchpoint's owner
  department, ``touchpoints.owner_department``) and support systems / other departments: the lanes of a
  service blueprint (Shostack 1984, "Designing services that deliver", *HBR* 62(1); Bitner, Ostrom &
  Morgan 2008, "Service blueprinting", *California Management Review* 50(3));
* **the AS-IS flow as the starting point** where an event log exists: the most frequent variant of the
  cases that pass through the owner department (:mod:`cxaudit.process`), with rework removed (an
  activity is kept at its first occurrence);
* **the recommended changes** as tasks (``R<rank> · title``) before the answer to the customer;
* **the response-time standard** of the touchpoint's channel (``tickets.sla_hours``) as a
  non-interrupting timer boundary event on the first front-stage task, leading to an escalation.

:func:`to_bpmn_xml` writes BPMN 2.0 XML (OMG formal/13-12-09, namespaces of BPMN 2.0.2) with a
``collaboration`` (one pool), a ``laneSet`` and a ``BPMNDiagram`` (BPMNDI): shapes of the pool, lanes and
nodes, and edges with waypoints. The horizontal position of each node is Graphviz ``dot``'s ranking of
the sequence flow (``rankdir=LR``; Gansner et al. 1993, "A technique for drawing directed graphs",
*IEEE TSE* 19(3)); its vertical position is its lane's band. :func:`to_svg` draws the same layout as a
vector image for the report. The files open laid out in Camunda Modeler and bpmn.io; they validate
against the OMG XSD (``tests/test_bpmn.py``).

Examples
--------
>>> bp = build_blueprint("tp_delivery", {"label": "Home delivery", "channel": "site", "owner_department": "Logistics"},
...                      [], None, sla_hours=24.0, lang="en")
>>> [n.kind for n in bp.nodes]
['start', 'task', 'timer', 'task', 'task', 'end', 'task', 'end']
>>> lay = layout(bp)
>>> '<bpmndi:BPMNShape' in to_bpmn_xml(bp, lay) and "<laneSet" in to_bpmn_xml(bp, lay)
True
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CxauditError
from .i18n import fmt_int, t

__all__ = [
    "Node",
    "Blueprint",
    "Layout",
    "dot_svg",
    "build_blueprint",
    "blueprints_for_run",
    "layout",
    "to_bpmn_xml",
    "to_svg",
    "write_blueprints",
    "blocks_blueprints",
    "TOP_BLUEPRINTS",
]

SECTION = "blueprints"
#: Blueprints for at most this many pain-point touchpoints.
TOP_BLUEPRINTS = 3
#: Recommended changes drawn per blueprint (the highest ranked).
MAX_CHANGES = 4
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
LANES = ("customer", "front", "back", "support")
_SIZE = {"task": (124.0, 86.0), "start": (36.0, 36.0), "end": (36.0, 36.0), "timer": (32.0, 32.0)}
_LANE_H = 136.0
_LANE_LABEL_W = 36.0
_POOL_LABEL_W = 30.0


def _dot() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise CxauditError("Graphviz 'dot' not found; install the Debian package graphviz (apt-get install graphviz)")
    return exe


def _run_dot(src: str, fmt: str) -> str:
    res = subprocess.run([_dot(), f"-T{fmt}"], input=src.encode("utf-8"), capture_output=True, timeout=60, check=False)
    if res.returncode != 0:
        raise CxauditError(f"Graphviz dot failed: {res.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return res.stdout.decode("utf-8")


def _q(s: str) -> str:
    """A DOT double-quoted string."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_svg(nodes: Sequence[tuple[str, str, bool]], edges: Sequence[tuple[str, str, str, float]], *,
            rankdir: str = "TB") -> str:
    """A directed graph drawn by Graphviz ``dot`` as SVG (``nodes``: id, label, highlighted; ``edges``:
    source, target, label, pen width). Used for the AS-IS process map."""
    lines = ["digraph G {", f"rankdir={rankdir}; bgcolor=\"white\"; pad=0.2; nodesep=0.35; ranksep=0.45;",
             'node [shape=box, style="rounded,filled", fillcolor="#eef2f7", color="#1f3b5c", fontname="DejaVu Sans",'
             ' fontsize=10];', 'edge [color="#7f8c8d", fontname="DejaVu Sans", fontsize=8, arrowsize=0.6];']
    ids = {n[0]: f"n{i}" for i, n in enumerate(nodes)}
    for nid, label, hot in nodes:
        extra = ', fillcolor="#fbe3e0", color="#c0392b", penwidth=2' if hot else ""
        lines.append(f"{ids[nid]} [label={_q(label)}{extra}];")
    for s, d, label, w in edges:
        if s in ids and d in ids:
            lines.append(f"{ids[s]} -> {ids[d]} [label={_q(label)}, penwidth={w:.2f}];")
    lines.append("}")
    svg = _run_dot("\n".join(lines), "svg")
    return svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE


# --- the model --------------------------------------------------------------------------------------------


@dataclass
class Node:
    """A flow node: ``kind`` is start / end / task / timer (a timer boundary event on ``attached_to``)."""

    id: str
    kind: str
    name: str
    lane: str
    attached_to: str | None = None
    duration: str | None = None  # ISO 8601 duration of a timer (PT4H)
    change: bool = False  # a recommended change


@dataclass
class Blueprint:
    key: str
    title: str
    lane_names: dict[str, str]
    nodes: list[Node]
    flows: list[tuple[str, str, str]]  # id, source, target
    changes: list[str] = field(default_factory=list)
    from_log: bool = False
    sla_h: float | None = None
    channel: str = ""
    cases: int = 0


def _iso_duration(hours: float) -> str:
    minutes = int(round(hours * 60))
    h, m = divmod(minutes, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m or not h else "")


def _asis_path(an: Any, owner: str, channel: str = "") -> tuple[list[tuple[str, str]], str, int]:
    """(activity, department) of the main AS-IS path through ``owner``, the front department, and the
    number of cases it is drawn from. Cases of the touchpoint's ``channel`` only, when the log has
    cases of that channel.

    The main path is the most frequent variant of those cases (ties: the variant whose activity codes,
    joined by commas, sort first as text), drawn from its first case; the front department is the
    most frequent first department of those cases (ties: the one seen first). Counted on the log's
    codes (:meth:`cxaudit.process.EventLog.case_variants`, one bincount per touchpoint)."""
    log = an.log
    if log.dep is None or log.departments is None:
        return [], "", 0
    dep_names = [str(d) for d in log.departments]
    if owner not in dep_names:
        return [], "", 0
    hit = log.dep == dep_names.index(owner)
    if channel and log.chan is not None and log.channels is not None:
        low = [str(c).lower() for c in log.channels]
        want = np.array([c == channel.lower() for c in low], dtype=bool)
        if want.any():
            same = want[log.chan] & (log.chan >= 0)
            if (hit & same).any():
                hit &= same
    sel = np.zeros(log.n_cases, dtype=bool)
    sel[log.case[hit]] = True
    n_sel = int(sel.sum())
    if not n_sel:
        return [], "", 0
    vid, seqs, _, _ = log.case_variants()
    counts = np.bincount(vid[sel], minlength=len(seqs))
    tied = np.flatnonzero(counts == counts.max())
    top = min(tied, key=lambda v: ",".join(map(str, seqs[v])))
    first_case = int(np.flatnonzero(sel & (vid == top))[0])
    starts = np.flatnonzero(log.first)
    lo = starts[first_case]
    hi = starts[first_case + 1] if first_case + 1 < len(starts) else log.n_events
    seen: set[int] = set()
    path = []
    for a, d in zip(log.act[lo:hi].tolist(), log.dep[lo:hi].tolist(), strict=True):
        if a in seen:
            continue  # rework removed in the TO-BE
        seen.add(a)
        path.append((str(log.activities[a]), "" if d < 0 else dep_names[d]))
    # each selected case's first known department, counted; ties: the department seen first
    known = np.flatnonzero((log.dep >= 0) & sel[log.case])
    c_at = log.case[known]
    head = known[np.r_[True, c_at[1:] != c_at[:-1]]] if len(known) else known
    front = ""
    if len(head):
        firsts = log.dep[head].astype(np.int64)
        n = np.bincount(firsts, minlength=len(dep_names))
        seen_at = np.full(len(dep_names), len(firsts))
        np.minimum.at(seen_at, firsts, np.arange(len(firsts)))
        front = dep_names[int(np.lexsort((seen_at, -n))[0])]
    return path, front, n_sel


def build_blueprint(touchpoint: str, info: Mapping[str, Any], recs: Sequence[Mapping[str, Any]], analysis: Any,
                    *, sla_hours: float | None, lang: str, channel_label: str | None = None) -> Blueprint:
    """One TO-BE service blueprint for ``touchpoint`` (``info``: label, channel, owner_department).

    ``recs`` are the recommendations that address it (dicts of ``tobe.json``, rank order); ``analysis``
    a :class:`cxaudit.process.ProcessAnalysis` or None (then the flow is built from the touchpoint and
    the recommendations alone)."""
    label = str(info.get("label") or touchpoint)
    owner = str(info.get("owner_department") or "") or t("blueprints.lane_back_default", lang)
    channel = str(info.get("channel") or "")
    ch_label = channel_label or channel
    path, front, n_cases = _asis_path(analysis, owner, channel) if analysis is not None else ([], "", 0)
    lane_names = {"customer": t("blueprints.lane_customer", lang),
                  "front": t("blueprints.lane_front", lang, who=front or ch_label),
                  "back": t("blueprints.lane_back", lang, who=owner),
                  "support": t("blueprints.lane_support", lang)}
    nodes: list[Node] = [Node("start", "start", t("blueprints.start", lang, touchpoint=label), "customer")]
    if path:
        for i, (act, dep) in enumerate(path):
            lane = "front" if dep == front else "back" if dep == owner else "support"
            nodes.append(Node(f"asis_{i}", "task", act, lane))
    else:
        nodes.append(Node("receive", "task", t("blueprints.receive", lang, channel=ch_label), "front"))
        nodes.append(Node("handle", "task", t("blueprints.handle", lang, department=owner), "back"))
    # recommended changes before the last front-stage answer (or at the end)
    changes = []
    rec_nodes: list[Node] = []
    for r in list(recs)[:MAX_CHANGES]:
        title = str(((r.get("texts") or {}).get(lang) or {}).get("title") or r.get("rule") or "")
        lab = f"{t('tobe.rec_prefix', lang)}{r.get('rank', '')} · {title}"
        deps = [str(d) for d in (r.get("tags") or {}).get("departments", [])]
        lane = "back" if owner in deps else "support"
        rec_nodes.append(Node(f"change_{r.get('rank', len(rec_nodes))}", "task", lab, lane, change=True))
        changes.append(lab)
    tasks = nodes[1:]
    if not path:
        tasks.append(Node("answer", "task", t("blueprints.answer", lang), "front"))
    # the changes go after the last step outside the front stage (the back-stage work), else before the
    # answer (the second-to-last step of a flow of three or more, the last of a shorter one)
    behind = [i for i, n in enumerate(tasks) if n.lane != "front"]
    at = behind[-1] + 1 if behind else (len(tasks) - 2 if len(tasks) >= 3 else max(len(tasks) - 1, 0))
    tasks[at:at] = rec_nodes
    nodes = [nodes[0], *tasks, Node("end", "end", t("blueprints.end", lang), "customer")]
    flows = [(f"flow_{i}", a.id, b.id) for i, (a, b) in enumerate(zip(nodes[:-1], nodes[1:], strict=True))]
    first_front = next((n for n in nodes if n.kind == "task" and n.lane == "front"), None)
    if sla_hours and first_front is not None:
        timer = Node("timer", "timer", t("blueprints.timer", lang, hours=_fmt_h(sla_hours, lang)), "front",
                     attached_to=first_front.id, duration=_iso_duration(sla_hours))
        esc = Node("escalate", "task", t("blueprints.escalate", lang), "support")
        esc_end = Node("escalated", "end", t("blueprints.escalated", lang), "support")
        i = nodes.index(first_front) + 1
        nodes[i:i] = [timer]
        nodes += [esc, esc_end]
        flows += [("flow_timer", "timer", "escalate"), ("flow_escalated", "escalate", "escalated")]
    return Blueprint(touchpoint, label, lane_names, nodes, flows, changes, bool(path), sla_hours, channel, n_cases)


def _fmt_h(h: float, lang: str) -> str:
    from .tickets import fmt_hours

    return fmt_hours(h, lang)


# --- layout ---------------------------------------------------------------------------------------------------


@dataclass
class Layout:
    """Bounds (x, y, w, h; y down) of the pool, lanes and nodes, and the waypoints of each flow."""

    pool: tuple[float, float, float, float]
    lanes: dict[str, tuple[float, float, float, float]]
    nodes: dict[str, tuple[float, float, float, float]]
    edges: dict[str, list[tuple[float, float]]]


def layout(bp: Blueprint) -> Layout:
    """Graphviz ``dot`` ranks the sequence flow left to right (``-Tjson``); each node sits in its lane's
    band; boundary timers sit on the lower edge of their task; flows are orthogonal polylines."""
    flow_nodes = [n for n in bp.nodes if n.kind != "timer"]
    lines = ["digraph G {", "rankdir=LR; nodesep=0.25; ranksep=0.22;", "node [shape=box, fixedsize=true];"]
    for n in flow_nodes:
        w, h = _SIZE[n.kind]
        lines.append(f"{n.id} [width={w / 72:.3f}, height={h / 72:.3f}];")
    timers = {n.id: n for n in bp.nodes if n.kind == "timer"}
    for _, s, d in bp.flows:
        src = timers[s].attached_to if s in timers else s
        lines.append(f"{src} -> {d};")
    lines.append("}")
    data = json.loads(_run_dot("\n".join(lines), "json"))
    xs = {o["name"]: float(o["pos"].split(",")[0]) for o in data.get("objects", []) if "pos" in o}
    used = [ln for ln in LANES if any(n.lane == ln for n in bp.nodes)]
    lane_y = {ln: i * _LANE_H for i, ln in enumerate(used)}
    x0 = _POOL_LABEL_W + _LANE_LABEL_W + 30.0
    nodes: dict[str, tuple[float, float, float, float]] = {}
    placed: dict[str, list[tuple[float, float]]] = {ln: [] for ln in used}
    for n in flow_nodes:
        w, h = _SIZE[n.kind]
        cx = x0 + xs.get(n.id, 0.0)
        cy = lane_y[n.lane] + _LANE_H / 2
        for px, py in placed[n.lane]:  # two nodes of a lane on one rank: stack them in the band
            if abs(px - cx) < w and abs(py - cy) < h:
                cy = py + h / 2 + 12 + h / 2 if py + h + 12 < lane_y[n.lane] + _LANE_H else py - h - 12
        placed[n.lane].append((cx, cy))
        nodes[n.id] = (cx - w / 2, cy - h / 2, w, h)
    for n in timers.values():
        tx, ty, tw, th = nodes[n.attached_to]  # type: ignore[index]
        w, h = _SIZE["timer"]
        nodes[n.id] = (tx + tw - w - 8, ty + th - h / 2, w, h)
    right = max(x + w for x, _, w, _ in nodes.values()) + 40
    height = len(used) * _LANE_H
    pool = (0.0, 0.0, right, height)
    lanes = {ln: (_POOL_LABEL_W, lane_y[ln], right - _POOL_LABEL_W, _LANE_H) for ln in used}
    edges = {}
    for fid, s, d in bp.flows:
        sx, sy, sw, sh = nodes[s]
        dx, dy, dw, dh = nodes[d]
        if s in timers:  # leave the timer downwards, then across
            a = (sx + sw / 2, sy + sh)
            b = (dx, dy + dh / 2)
            edges[fid] = [a, (a[0], b[1]), b] if abs(a[0] - b[0]) > 1 else [a, b]
            continue
        a = (sx + sw, sy + sh / 2)
        b = (dx, dy + dh / 2)
        if abs(a[1] - b[1]) < 0.5:
            edges[fid] = [a, b]
        elif b[0] > a[0] + 10:
            mx = (a[0] + b[0]) / 2
            edges[fid] = [a, (mx, a[1]), (mx, b[1]), b]
        else:  # backwards or stacked: go around below
            low = max(sy + sh, dy + dh) + 14
            edges[fid] = [(sx + sw / 2, sy + sh), (sx + sw / 2, low), (dx + dw / 2, low), (dx + dw / 2, dy + dh)]
    return Layout(pool, lanes, nodes, edges)


# --- BPMN XML ---------------------------------------------------------------------------------------------------


def _x(s: str) -> str:
    return html.escape(str(s), quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def to_bpmn_xml(bp: Blueprint, lay: Layout, *, name: str | None = None) -> str:
    """BPMN 2.0 XML with a collaboration (one pool), lanes, flow nodes and BPMNDI (see module docstring)."""
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for fid, s, d in bp.flows:
        outgoing.setdefault(s, []).append(fid)
        incoming.setdefault(d, []).append(fid)
    pid = f"Process_{_id(bp.key)}"
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<definitions xmlns="{NS["bpmn"]}" xmlns:bpmndi="{NS["bpmndi"]}" xmlns:dc="{NS["dc"]}" '
           f'xmlns:di="{NS["di"]}" xmlns:xsi="{NS["xsi"]}" id="Definitions_{_id(bp.key)}" '
           f'targetNamespace="urn:cxaudit:blueprints" exporter="cxaudit" exporterVersion="1">',
           '  <collaboration id="Collaboration_1">',
           f'    <participant id="Participant_1" name="{_x(name or bp.title)}" processRef="{pid}"/>',
           "  </collaboration>",
           f'  <process id="{pid}" name="{_x(name or bp.title)}" isExecutable="false">',
           '    <laneSet id="LaneSet_1">']
    for ln in lay.lanes:
        out.append(f'      <lane id="Lane_{ln}" name="{_x(bp.lane_names[ln])}">')
        out += [f"        <flowNodeRef>{n.id}</flowNodeRef>" for n in bp.nodes if n.lane == ln]
        out.append("      </lane>")
    out.append("    </laneSet>")
    for n in bp.nodes:
        tag = {"start": "startEvent", "end": "endEvent", "task": "task", "timer": "boundaryEvent"}[n.kind]
        attrs = f'id="{n.id}" name="{_x(n.name)}"'
        if n.kind == "timer":
            attrs += f' cancelActivity="false" attachedToRef="{n.attached_to}"'
        body = [f"      <incoming>{f}</incoming>" for f in incoming.get(n.id, [])]
        body += [f"      <outgoing>{f}</outgoing>" for f in outgoing.get(n.id, [])]
        if n.kind == "timer":
            body.append(f'      <timerEventDefinition id="TimerDef_{n.id}"><timeDuration xsi:type="tFormalExpression">'
                        f"{n.duration}</timeDuration></timerEventDefinition>")
        if n.change:
            body.insert(0, "      <documentation>TO-BE change (cxaudit recommendation)</documentation>")
        out += [f"    <{tag} {attrs}>", *body, f"    </{tag}>"]
    for fid, s, d in bp.flows:
        out.append(f'    <sequenceFlow id="{fid}" sourceRef="{s}" targetRef="{d}"/>')
    out.append("  </process>")
    out += ['  <bpmndi:BPMNDiagram id="Diagram_1">', '    <bpmndi:BPMNPlane id="Plane_1" bpmnElement="Collaboration_1">']

    def shape(el: str, b: tuple[float, float, float, float], extra: str = "") -> None:
        out.append(f'      <bpmndi:BPMNShape id="{el}_di" bpmnElement="{el}"{extra}>'
                   f'<dc:Bounds x="{_f(b[0])}" y="{_f(b[1])}" width="{_f(b[2])}" height="{_f(b[3])}"/>'
                   "</bpmndi:BPMNShape>")

    shape("Participant_1", lay.pool, ' isHorizontal="true"')
    for ln, b in lay.lanes.items():
        shape(f"Lane_{ln}", b, ' isHorizontal="true"')
    for n in bp.nodes:
        shape(n.id, lay.nodes[n.id])
    for fid, _, _ in bp.flows:
        pts = "".join(f'<di:waypoint x="{_f(x)}" y="{_f(y)}"/>' for x, y in lay.edges[fid])
        out.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{pts}</bpmndi:BPMNEdge>')
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</definitions>", ""]
    return "\n".join(out)


def _id(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", str(s)) or "x"


# --- SVG ----------------------------------------------------------------------------------------------------------

_FONT = 'font-family="DejaVu Sans, sans-serif"'


def _wrap(text: str, width: int, most: int = 5) -> list[str]:
    lines = textwrap.wrap(str(text), width=width, break_long_words=True) or [""]
    return lines if len(lines) <= most else [*lines[: most - 1], lines[most - 1][: width - 1] + "…"]


def to_svg(bp: Blueprint, lay: Layout, *, colour: str = "#1f3b5c") -> str:
    """The blueprint drawn from the same layout as the BPMNDI: pool, lane bands, BPMN shapes, flows."""
    px, py, pw, ph = lay.pool
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-4 -4 {_f(pw + 8)} {_f(ph + 8)}" '
           f'width="{_f(pw + 8)}" height="{_f(ph + 8)}">',
           '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
           f'<rect x="{_f(px)}" y="{_f(py)}" width="{_f(pw)}" height="{_f(ph)}" fill="white" stroke="{colour}" '
           'stroke-width="1.5"/>',
           f'<text transform="translate({_f(px + _POOL_LABEL_W / 2 + 4)},{_f(py + ph / 2)}) rotate(-90)" '
           f'text-anchor="middle" {_FONT} font-size="14" font-weight="bold" fill="{colour}">'
           f"{_x(_short(bp.title, 40))}</text>"]
    shades = {"customer": "#f4f7fb", "front": "#ffffff", "back": "#f4f7fb", "support": "#ffffff"}
    for ln, (x, y, w, h) in lay.lanes.items():
        out.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{shades[ln]}" '
                   f'stroke="{colour}" stroke-width="0.8"/>')
        out.append(f'<line x1="{_f(x + _LANE_LABEL_W)}" y1="{_f(y)}" x2="{_f(x + _LANE_LABEL_W)}" y2="{_f(y + h)}" '
                   f'stroke="{colour}" stroke-width="0.5"/>')
        words = _wrap(bp.lane_names[ln], 18, 2)
        for i, line in enumerate(words):
            off = (i - (len(words) - 1) / 2) * 14
            out.append(f'<text transform="translate({_f(x + _LANE_LABEL_W / 2 + 4 + off)},{_f(y + h / 2)}) '
                       f'rotate(-90)" text-anchor="middle" {_FONT} font-size="12" fill="{colour}">{_x(line)}</text>')
    for fid, _, _ in bp.flows:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in lay.edges[fid])
        out.append(f'<polyline points="{pts}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arr)"/>')
    for n in bp.nodes:
        x, y, w, h = lay.nodes[n.id]
        cx, cy, r = x + w / 2, y + h / 2, w / 2
        if n.kind == "task":
            fill, stroke = ("#fdf0d5", "#b9770e") if n.change else ("#eef2f7", colour)
            out.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="9" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="{2 if n.change else 1.2}"/>')
            lines = _wrap(n.name, 16)
            for i, line in enumerate(lines):
                ty = cy + (i - (len(lines) - 1) / 2) * 15 + 5
                out.append(f'<text x="{_f(cx)}" y="{_f(ty)}" text-anchor="middle" {_FONT} font-size="13">'
                           f"{_x(line)}</text>")
            continue
        if n.kind == "start":
            out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" fill="white" stroke="#2e8b57" '
                       'stroke-width="1.5"/>')
        elif n.kind == "end":
            out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" fill="white" stroke="#c0392b" '
                       'stroke-width="4"/>')
        else:  # timer: double circle with a clock face
            out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" fill="white" stroke="{colour}" '
                       'stroke-width="1.2" stroke-dasharray="4 2"/>')
            out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r - 4)}" fill="white" stroke="{colour}"/>')
            out.append(f'<path d="M{_f(cx)},{_f(cy - r + 8)} L{_f(cx)},{_f(cy)} L{_f(cx + 6)},{_f(cy + 3)}" '
                       f'stroke="{colour}" fill="none"/>')
        lines = _wrap(n.name, 18)[:3]
        for i, line in enumerate(lines):
            out.append(f'<text x="{_f(cx)}" y="{_f(y + h + 14 + 14 * i)}" text-anchor="middle" {_FONT} '
                       f'font-size="12">{_x(line)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# --- the run: which touchpoints, writing, display ------------------------------------------------------------


def _pain_touchpoints(findings: Sequence[Any], recs: Sequence[Mapping[str, Any]], top: int) -> list[str]:
    """Touchpoints of the pain-point findings (by priority) that some recommendation addresses; then other
    addressed touchpoints by the best rank of the recommendations on them."""
    addressed = {tp for r in recs for tp in (r.get("tags") or {}).get("touchpoints", [])}
    pains = [f for f in findings if str(getattr(f, "id", "")).startswith("journey.pain_point.")]
    pains.sort(key=lambda f: -float(f.priority))
    order = [str(tp) for f in pains for tp in (f.tags or {}).get("touchpoints", []) if str(tp) in addressed]
    best: dict[str, int] = {}
    for r in recs:
        for tp in (r.get("tags") or {}).get("touchpoints", []):
            best[str(tp)] = min(best.get(str(tp), 10**6), int(r.get("rank") or 10**6))
    order += sorted(best, key=lambda k: (best[k], k))
    return list(dict.fromkeys(order))[:top]


def blueprints_for_run(run_dir: str | Path, audit: Any, lang: str, analysis: Any = None, *,
                       top: int = TOP_BLUEPRINTS) -> list[Blueprint]:
    """The blueprints of a run: read ``tobe.json`` and the findings, build one per top touchpoint."""
    from .findings import read_findings
    from .recommend import TOBE_FILE
    from .tickets import settings

    path = Path(run_dir) / TOBE_FILE
    if not path.is_file():
        return []
    recs = json.loads(path.read_text(encoding="utf-8")).get("recommendations", [])
    findings = read_findings(run_dir)
    tps = audit.table("touchpoints") if audit.has("touchpoints") else None
    sla = settings(audit.config).sla_hours
    out = []
    for tp in _pain_touchpoints(findings, recs, top):
        info: dict[str, Any] = {"label": tp}
        if tps is not None:
            row = tps[tps["touchpoint"].astype(str) == tp]
            if len(row):
                info = {k: row.iloc[0][k] for k in row.columns if pd.notna(row.iloc[0][k])}
        mine = sorted([r for r in recs if tp in (r.get("tags") or {}).get("touchpoints", [])],
                      key=lambda r: int(r.get("rank") or 0))
        ch = str(info.get("channel") or "")
        std = _standard_channel(ch, sla, analysis, audit, str(info.get("owner_department") or ""))
        out.append(build_blueprint(tp, info, mine, analysis, sla_hours=sla.get(std) if std else None, lang=lang,
                                   channel_label=audit.config.value_label("channel", ch, lang) if ch else None))
    return out


def _standard_channel(channel: str, sla: Mapping[str, float], analysis: Any, audit: Any, owner: str) -> str | None:
    """The channel whose response-time standard the blueprint's timer carries: the touchpoint's own when
    it has one; else the most frequent channel (with a standard) of the log's cases through the owner
    department; else of the support tickets; else none (no timer)."""
    if channel.lower() in sla:
        return channel.lower()
    counts: list[pd.Series] = []
    if analysis is not None and "channel" in analysis.cases.columns:
        c = analysis.cases
        mine = c[[owner in (d if isinstance(d, list | tuple) else list(d)) for d in c["departments"]]]
        counts.append((mine if len(mine) else c)["channel"].dropna().astype(str).str.lower().value_counts())
    if audit.has("tickets") and "channel" in audit.table("tickets").columns:
        counts.append(audit.table("tickets")["channel"].dropna().astype(str).str.lower().value_counts())
    for vc in counts:
        for ch in vc.index:
            if ch in sla:
                return str(ch)
    return None


def write_blueprints(bps: Sequence[Blueprint], run_dir: str | Path) -> list[tuple[Blueprint, Layout, Path]]:
    """Write ``<run_dir>/blueprints/<touchpoint>.bpmn`` (and ``.svg``) for each blueprint."""
    folder = Path(run_dir) / "blueprints"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for bp in bps:
        lay = layout(bp)
        p = folder / f"{_id(bp.key)}.bpmn"
        p.write_text(to_bpmn_xml(bp, lay), encoding="utf-8")
        (folder / f"{_id(bp.key)}.svg").write_text(to_svg(bp, lay), encoding="utf-8")
        out.append((bp, lay, p))
    return out


def _img(svg: str, alt: str) -> Any:
    import base64

    from IPython.display import HTML

    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return HTML(f'<p class="cx-figure"><img alt="{_x(alt)}" src="data:image/svg+xml;base64,{data}" '
                f'style="max-width: 100%"></p>')


def blocks_blueprints(written: Sequence[tuple[Blueprint, Layout, Path]], lang: str, *, has_log: bool) -> list[Any]:
    """The section: what a blueprint is, one figure per touchpoint, and what an event log would add."""
    from . import show

    out = [show.section(SECTION, lang), show.paragraph(t("blueprints.intro", lang))]
    if not written:
        return [*out, show.note(t("blueprints.none", lang))]
    for bp, lay, p in written:
        out.append(show.heading(t("blueprints.heading", lang, touchpoint=bp.title), SECTION))
        how = (t("blueprints.from_log", lang, cases=fmt_int(bp.cases, lang)) if bp.from_log
               else t("blueprints.from_touchpoint", lang))
        out.append(show.paragraph(how + " " + t("blueprints.file", lang, file=p.name)))
        out.append(_img(to_svg(bp, lay), t("blueprints.heading", lang, touchpoint=bp.title)))
    if not has_log:
        out.append(show.note(t("blueprints.would_add", lang)))
    return out
