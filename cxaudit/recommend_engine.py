"""TO-BE analysis: findings -> prioritised recommendations, their impacts, the plan's targets, the journey map.

This module is the analysis (rules, impact models, economics, targets, TO-BE journey map, persistence);
:mod:`cxaudit.recommend` turns its results into tables, notes, HTML blocks and charts in a report
language (and re-exports this module's names, so ``cxaudit.recommend`` stays the one entry point).

The AS-IS notebooks emit :class:`~cxaudit.findings.Finding` records. A library of **rules** (YAML:
``cxaudit/resources/rules.yaml``, plus an optional ``rules.yaml`` in the client folder and overrides
in ``audit.yaml``) turns them into :class:`Recommendation` s. A rule fires when a finding matches its
trigger (id glob or regex, section, tags, severity, reach, value or evidence conditions); a rule whose
trigger finding is absent simply does not fire, so the engine works with whatever findings exist.

Every recommendation carries

* its text in en, ru and pl, quoting the finding's numbers (placeholders filled from the finding and
  its evidence, formatted for the language);
* an **impact estimate** in NPS points, from one of the models below, with its assumption spelled
  out in the report language; and revenue from the churn economics where the run has them;
* an effort level (low / medium / high), a horizon (0–3, 3–6, 6–12 months), an owner and the metric
  that measures it (where, how often, baseline and target).

Impact models (all move detractors to passives: each moved respondent adds 100 / n NPS points)
----------------------------------------------------------------------------------------------------
``detractor_shift``
    ΔNPS = 100 × r × d_a × s: a share ``r`` of customers is affected (the finding's reach), ``d_a``
    of them are detractors (measured among them: the finding's ``evidence["detractor_share"]``, e.g.
    ``tickets.sla.<channel>``: customers with a late first response, with ``detractor_share_n`` and
    ``detractor_share_ci``; else the overall detractor share, which the note labels an assumption),
    and the change moves a share ``s`` of those detractors to passive.
``driver_share``
    ΔNPS = 100 × d × w × c: the touchpoint's key-driver importance ``w`` (its share of the explained
    NPS variance, ``evidence["importance"]``; Johnson's relative weights / Shapley–LMG, see
    METHODS.md) times the overall detractor share ``d`` is the part of the detractors the touchpoint
    accounts for; closing a share ``c`` of its performance gap moves that part of them. Without an
    importance it falls back to ``detractor_shift``.
``segment_gap``
    ΔNPS = r × (NPS_rest − NPS_group) × c: closing a share ``c`` of a group's NPS gap to the rest of
    the customers lifts the overall NPS by the group's weight ``r`` times the closed gap. The group is
    a segment (``cx_metrics.nps.low_segment.*``: evidence ``rest_nps``) or the customers who rate a
    touchpoint low (``journey.pain_point.*``: evidence ``gap``, reach = their share). Without a gap it
    falls back to ``driver_share``, then ``detractor_shift``.
``fixed`` / ``none``
    A consultant's figure / an enabler with no direct NPS effect.

Each recommendation moves a share m_i = ΔNPS_i / (100 d) of the detractor pool. The plan as a
whole moves M = 1 − Π(1 − m_i) (independent effects on one pool, so nothing is counted twice and M
never exceeds 1), capped at ``max_detractor_move``. Targets: NPS_TO-BE = NPS + 100 d M; the moved
detractors become satisfied, CSAT_TO-BE = CSAT + 100 d M (an upper bound), with d the detractor
share among respondents; churn falls by d_c M (r_d − r_pa) where d_c is the detractor share among
*customers* (each customer's NPS group from their most recent valid answer, as the churn section
assigns it) and r_d, r_pa are the detractor and passive churn rates measured by the churn section.
Churn is on one horizon: per 12 months (1 − exp(−12 D/T) from D churn events in T months at risk,
``cxaudit.churn.exposure_rates``) when the findings carry it, else the whole data period for the
overall and the group rates alike. The revenue kept is the churn section's uplift (revenue saved if
detractors churned at the promoter rate, METHODS.md "Churn and money") × M × (r_d − r_pa) / (r_d − r_p).
A passive rate missing from the evidence is put midway between r_p and r_d and labelled an
assumption; without any per-group rates they are derived from the overall churn rate c, the
detractor/promoter churn ratio R and the NPS shares, passives midway:
r_p = c / (p + (1 − p − d)(1 + R) / 2 + d R).

Examples
--------
>>> from cxaudit.findings import Finding
>>> fs = [Finding(id="cx_metrics.nps.overall", section="cx_metrics", title="NPS is +12", metric="nps",
...               value=12.0, n=500, severity=3, reach=0.25, unit="pts",
...               evidence={"promoters": 0.37, "detractors": 0.25}),
...       Finding(id="tickets.sla.social", section="voc", title="Social answers in 6 h", metric="hours",
...               value=6.0, n=300, severity=4, reach=0.1, unit="h", tags={"channels": ["social"]})]
>>> recs = recommend(fs)  # ΔNPS = 100 × reach 0.1 × detractors 0.25 × shift 0.5
>>> recs[0].rule, recs[0].tags["channels"], round(recs[0].impact_nps, 2)
('tickets_sla', ['social'], 1.25)
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.nodes
import jinja2.sandbox
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .findings import Finding, format_value
from .i18n import LANGUAGES, catalog, fmt_ci, fmt_num, fmt_pct, t, value_label
from .paths import client_file, client_side_file
from .safeyaml import load_yaml, read_text_capped

__all__ = [
    "EFFORTS",
    "HORIZONS",
    "DEFAULT_ASSUMPTIONS",
    "Rule",
    "RuleBook",
    "Recommendation",
    "Economics",
    "Targets",
    "load_rules",
    "builtin_rules",
    "rulebook",
    "recommend",
    "economics",
    "targets",
    "journey_map",
    "render_text",
    "save_tobe",
    "read_tobe",
    "load_commentary",
    "render_template",
    "legacy_to_jinja",
    "template_fields",
    "money_text",
    "tag_label",
    "labels_from_audit",
    "TOBE_FILE",
    "placeholders",
    "FILTERS",
    "BASE_FIELDS",
    "SINGULAR",
    "TAG_KINDS",
    "QUADRANTS",
    "FREQUENCIES",
    "EFFORT_COST",
    "HORIZON_MONTHS",
    "Text",
    "Trigger",
    "Impact",
    "Measure",
    "Target",
    "Override",
    "Cond",
]

EFFORTS: tuple[str, ...] = ("low", "medium", "high")
EFFORT_COST: dict[str, int] = {"low": 1, "medium": 2, "high": 3}
HORIZONS: tuple[str, ...] = ("0-3", "3-6", "6-12")
HORIZON_MONTHS: dict[str, tuple[int, int]] = {"0-3": (0, 3), "3-6": (3, 6), "6-12": (6, 12)}
QUADRANTS: tuple[str, ...] = ("quick_win", "strategic", "fill_in", "reconsider")
FREQUENCIES: tuple[str, ...] = ("continuous", "weekly", "monthly", "quarterly")
TAG_KINDS: tuple[str, ...] = ("touchpoints", "stages", "channels", "departments", "segments", "themes", "reasons",
                             "personas")  # personas: issue 16
#: Singular placeholder name of each tag kind (``{touchpoint}`` is the first of ``tags["touchpoints"]``).
SINGULAR: dict[str, str] = {k: k[:-1] for k in TAG_KINDS}

#: Labelled, overridable assumptions (``assumptions:`` in a rules file or in audit.yaml).
DEFAULT_ASSUMPTIONS: dict[str, float] = {
    "detractor_share": 0.25,  # only when the run has no NPS finding
    "shift": 0.3,  # share of the affected detractors a change moves to passive
    "closure": 0.5,  # share of a performance gap a change closes within 12 months
    "max_detractor_move": 0.35,  # the whole plan moves at most this share of the detractors in 12 months
    "passive_churn_gap_share": 0.5,  # (r_d − r_pa) / (r_d − r_p) when it cannot be derived
    "quick_win_min_nps": 1.0,  # impact (NPS points) that makes a change "high impact"
    "journey_gap_closure": 0.5,  # share of a touchpoint's gap to the best-rated quartile closed
}

_ROOT_RULES = "rules.yaml"
_IMPORTANCE_KEYS = ("importance", "importance_share", "relative_weight", "rel_weight", "weight_share", "shapley", "lmg", "rwa")
#: Evidence keys holding the detractor share *among the affected customers* (not among all detractors).
_DETRACTOR_KEYS = ("detractor_share_of_mentions", "detractor_share", "detractor_share_affected",
                   "low_share_of_mentions")  # the last: a comment theme compared on a non-NPS outcome


# --- rule schema ---------------------------------------------------------------------------------------


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cond(_M):
    """Numeric condition: every bound given must hold."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    as_share: bool = Field(False, description="read a value above 1 as a percentage (42 -> 0.42) first")

    def ok(self, x: Any) -> bool:
        if not isinstance(x, int | float) or isinstance(x, bool) or (isinstance(x, float) and math.isnan(x)):
            return False
        if self.as_share:
            x = _share(x)
        return ((self.gt is None or x > self.gt) and (self.ge is None or x >= self.ge)
                and (self.lt is None or x < self.lt) and (self.le is None or x <= self.le))


class Trigger(_M):
    """Which findings fire a rule. ``id`` takes shell globs (``journey.pain_point.*``)."""

    id: str | list[str] | None = None
    id_regex: str | None = None
    section: str | None = None
    tags: dict[str, str | list[str]] = Field(default_factory=dict)
    text_regex: str | None = Field(None, description="matched (case-insensitively) on id, title and evidence labels")
    min_severity: int = Field(1, ge=1, le=5)
    min_reach: float = Field(0.0, ge=0, le=1)
    value: Cond | None = None
    evidence: dict[str, Cond] = Field(default_factory=dict)

    @field_validator("id_regex", "text_regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _something(self) -> Trigger:
        if self.id is None and self.id_regex is None and self.section is None:
            raise ValueError("a trigger needs 'id', 'id_regex' or 'section'")
        return self

    def matches(self, f: Finding) -> bool:
        ids = [self.id] if isinstance(self.id, str) else (self.id or [])
        if ids and not any(fnmatch.fnmatchcase(f.id, p) for p in ids):
            return False
        if self.id_regex is not None and not re.search(self.id_regex, f.id):
            return False
        if self.section is not None and f.section != self.section:
            return False
        for kind, want in self.tags.items():
            have = [str(v) for v in (f.tags or {}).get(kind, [])]
            pats = [want] if isinstance(want, str) else want
            if not have or not any(fnmatch.fnmatchcase(h, p) for h in have for p in pats):
                return False
        if self.text_regex is not None:
            labels = [str(v) for k, v in (f.evidence or {}).items() if isinstance(v, str) and "label" in k or k == "reason"]
            hay = " ".join([f.id, f.title, *labels])
            if not re.search(self.text_regex, hay, re.IGNORECASE):
                return False
        if int(f.severity) < self.min_severity or float(f.reach) < self.min_reach:
            return False
        if self.value is not None and not self.value.ok(f.value):
            return False
        ev = f.evidence or {}
        # "a|b": the first of the alternative keys the evidence has
        return all(cond.ok(next((ev[k] for k in key.split("|") if k in ev), None)) for key, cond in self.evidence.items())


class Impact(_M):
    """How a rule's NPS impact is estimated (see the module docstring for the formulas)."""

    model: Literal["detractor_shift", "driver_share", "segment_gap", "fixed", "none"] = "detractor_shift"
    shift: float | None = Field(None, gt=0, le=1)
    closure: float | None = Field(None, gt=0, le=1)
    nps: float | None = Field(None, ge=0, le=100, description="ΔNPS for the 'fixed' model")
    reach: str = Field("reach", description="'reach', 'detractors' or 'ev.<key>' (a share 0..1)")
    affected_detractors: str | float | None = Field(
        None, description="detractor share among the affected: a number, 'ev.<key>', or default")

    @field_validator("reach")
    @classmethod
    def _reach(cls, v: str) -> str:
        if v not in ("reach", "detractors") and not v.startswith("ev."):
            raise ValueError(f"expected 'reach', 'detractors' or 'ev.<key>', got {v!r}")
        return v


class Measure(_M):
    """What measures a change: a metric (catalog ``tobe.metric.<metric>``), where and how often, and
    its AS-IS baseline: the finding's ``value``, ``ev.<key>`` (a share 0..1 is shown as %), or ``none``
    (touchpoint ratings take theirs from the journey map)."""

    metric: str = Field(..., pattern=r"^[a-z0-9_]+$", description="catalog key tobe.metric.<metric>")
    frequency: Literal["continuous", "weekly", "monthly", "quarterly"] = "monthly"
    where: str | None = Field(None, description="tag kind naming where it is measured")
    baseline: str = Field("value", pattern=r"^(value|none|ev\.[A-Za-z0-9_]+)$")
    unit: Literal["", "%", "pts", "h"] | None = Field(None, description="unit of the baseline (default: the finding's)")


class Target(_M):
    """Target of the measured value, relative to the finding's value (in the finding's unit)."""

    factor: float | None = Field(None, gt=0)
    delta: float | None = None
    value: float | None = None
    ev: str | None = Field(None, pattern=r"^[A-Za-z0-9_]+$", description="evidence key holding the target")
    gap_to: str | None = Field(None, pattern=r"^[A-Za-z0-9_]+$",
                               description="evidence key of a reference value; close `share` of the gap to it")
    share: float = Field(0.5, gt=0, le=1, description="share of the gap to `gap_to` closed")

    @model_validator(mode="after")
    def _one(self) -> Target:
        if sum(x is not None for x in (self.factor, self.delta, self.value, self.ev, self.gap_to)) != 1:
            raise ValueError("give exactly one of factor, delta, value, ev, gap_to")
        return self

    def apply(self, x: float, evidence: Mapping[str, Any] | None = None) -> float | None:
        if self.factor is not None:
            return x * self.factor
        if self.delta is not None:
            return x + self.delta
        if self.ev is not None:
            return _num((evidence or {}).get(self.ev))
        if self.gap_to is not None:
            ref = _num((evidence or {}).get(self.gap_to))
            return None if ref is None else x + self.share * (ref - x)
        return float(self.value)  # type: ignore[arg-type]


class Text(_M):
    title: str = Field(..., min_length=1)
    action: str = Field(..., min_length=1)


class Rule(_M):
    """One recommendation rule (see ``cxaudit/resources/rules.yaml`` for the annotated library)."""

    id: str = Field(..., pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    family: str = Field(..., pattern=r"^[a-z0-9_]+$")
    when: Trigger
    group: str | None = Field(None, description="per finding, only the first matching rule of a group fires")
    per: Literal["finding", "all"] = "finding"
    merge: str | None = Field(None, description="recommendations with the same rendered key are merged")
    effort: Literal["low", "medium", "high"]
    horizon: Literal["0-3", "3-6", "6-12"]
    impact: Impact = Impact()
    measure: Measure
    target: Target | None = None
    owner: str = "departments"
    owner_default: str | None = Field(
        None, pattern=r"^[a-z0-9_]+$",
        description="department (catalog tobe.department.<key>) that owns the change when no finding names one")
    enabled: bool = True
    #: per language, title and action as Jinja2 templates (see :func:`render_template`); in a rules
    #: file either written out per language (the earlier ``{name}`` / ``[[ ]]`` syntax is converted)
    #: or ``{title: <catalog key>, action: <catalog key>}``: the templates of the i18n catalogs (the
    #: built-in rules: ``tobe.rule.<id>.title`` / ``.action``)
    text: dict[Literal["en", "ru", "pl"], Text]

    @field_validator("text", mode="before")
    @classmethod
    def _templates(cls, v: Any) -> Any:
        if isinstance(v, Mapping) and set(v) == {"title", "action"} and all(isinstance(x, str) for x in v.values()):
            missing = [k for k in v.values() if k not in catalog("en")]
            if missing:
                raise ValueError(f"text names catalog key(s) {missing} that no catalog has")
            return {lg: {"title": catalog(lg)[v["title"]], "action": catalog(lg)[v["action"]]} for lg in LANGUAGES}
        if isinstance(v, Mapping):
            return {lg: ({k: legacy_to_jinja(x) if isinstance(x, str) else x for k, x in tx.items()}
                         if isinstance(tx, Mapping) else tx) for lg, tx in v.items()}
        return v

    @field_validator("text")
    @classmethod
    def _all_languages(cls, v: dict[str, Text]) -> dict[str, Text]:
        for lg, tx in v.items():  # a template that does not parse is an error of the rules file
            for part in (tx.title, tx.action):
                try:
                    _JINJA.parse(part)
                except jinja2.TemplateSyntaxError as exc:
                    raise ValueError(f"text.{lg}: not a valid template: {exc}") from None
        missing = [lang for lang in LANGUAGES if lang not in v]
        if missing:
            raise ValueError(f"text is missing language(s) {missing}; every rule needs en, ru and pl")
        return v


class Override(_M):
    """A consultant's change to one rule: switch it off, fix its priority, effort, horizon or impact."""

    enabled: bool | None = None
    priority: float | None = Field(None, description="replaces the computed priority score")
    weight: float | None = Field(None, gt=0, description="multiplies the computed priority score")
    effort: Literal["low", "medium", "high"] | None = None
    horizon: Literal["0-3", "3-6", "6-12"] | None = None
    impact_nps: float | None = Field(None, ge=0, le=100)
    cost: float | None = Field(None, ge=0, description="the change's cost in the client's currency")


class _RulesFile(_M):
    version: int = 1
    rules: list[Rule] = Field(default_factory=list)
    overrides: dict[str, Override] = Field(default_factory=dict)
    assumptions: dict[str, float] = Field(default_factory=dict)

    @field_validator("assumptions")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(DEFAULT_ASSUMPTIONS))
        if unknown:
            raise ValueError(f"unknown assumption(s) {unknown}; known: {', '.join(DEFAULT_ASSUMPTIONS)}")
        return v

    @model_validator(mode="after")
    def _unique(self) -> _RulesFile:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"rule id {r.id!r} defined twice")
            seen.add(r.id)
        return self


@dataclass(frozen=True)
class RuleBook:
    """Rules in firing order, consultant overrides by rule id, and the assumptions in force."""

    rules: tuple[Rule, ...]
    overrides: Mapping[str, Override] = field(default_factory=dict)
    assumptions: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ASSUMPTIONS))
    sources: tuple[str, ...] = ()

    def a(self, key: str) -> float:
        return float(self.assumptions.get(key, DEFAULT_ASSUMPTIONS[key]))


def _pydantic_error(shown: str, prefix: str, exc: ValidationError, data: Any) -> ConfigError:
    err = next((e for e in exc.errors() if e["type"] == "extra_forbidden"), exc.errors()[0])
    loc = list(err["loc"])
    # name rules by their id rather than by their position
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            rid = data["rules"][loc[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            rid = None
        if rid:
            loc[1] = rid
    key = ".".join(str(p) for p in [*([prefix] if prefix else []), *loc])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err["type"] == "literal_error":
        msg = f"expected one of {err['ctx']['expected']}, got {err.get('input')!r}"
    return ConfigError(shown, key, msg)


def _parse(data: Any, shown: str, prefix: str = "") -> _RulesFile:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(shown, prefix, "expected a mapping with 'rules', 'overrides' and/or 'assumptions'")
    try:
        return _RulesFile.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(shown, prefix, exc, data) from None


def load_rules(path: str | Path) -> RuleBook:
    """Read one rules file (YAML: ``rules``, ``overrides``, ``assumptions``) and validate it.

    Raises
    ------
    ConfigError
        Naming the file and the dotted key (rules by their id), e.g.
        ``rules.yaml: key 'rules.fix_x.effort': expected one of 'low', 'medium' or 'high', got 'huge'``.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), "", "file not found")
    data = load_yaml(path)  # size cap, no aliases (cxaudit.safeyaml)
    parsed = _parse(data, str(path))
    return RuleBook(tuple(parsed.rules), dict(parsed.overrides),
                    {**DEFAULT_ASSUMPTIONS, **parsed.assumptions}, (str(path),))


def builtin_rules() -> RuleBook:
    """The rule library shipped with cxaudit (``cxaudit/resources/rules.yaml``)."""
    res = resources.files("cxaudit").joinpath("resources").joinpath(_ROOT_RULES)
    with resources.as_file(res) as p:
        return load_rules(p)


def _merge_books(base: RuleBook, extra: _RulesFile, source: str) -> RuleBook:
    rules = list(base.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    for r in extra.rules:  # same id: the consultant's rule replaces the built-in one in place
        if r.id in index:
            rules[index[r.id]] = r
        else:
            index[r.id] = len(rules)
            rules.append(r)
    overrides = dict(base.overrides)
    for k, o in extra.overrides.items():
        prev = overrides.get(k)
        overrides[k] = o if prev is None else prev.model_copy(update=o.model_dump(exclude_none=True))
    return RuleBook(tuple(rules), overrides, {**base.assumptions, **extra.assumptions},
                    (*base.sources, source))


def _config_section(config: Any) -> dict[str, Any]:
    """``audit.yaml``'s optional ``recommendations`` section as plain data (absent: empty)."""
    section = getattr(config, "recommendations", None) if config is not None else None
    if section is None:
        return {}
    if hasattr(section, "model_dump"):
        return {k: v for k, v in section.model_dump(exclude_none=True).items() if v not in ({}, [])}
    if isinstance(section, dict):
        return dict(section)
    raise ConfigError("audit.yaml", "recommendations", f"expected a mapping, got {type(section).__name__}")


def rulebook(client_dir: str | Path | None = None, config: Any = None) -> RuleBook:
    """Built-in rules + ``<client_dir>/rules.yaml`` (if present) + ``audit.yaml`` ``recommendations``.

    A client rule with a built-in rule's id replaces it; new ids are appended (they fire after the
    built-in ones). Overrides and assumptions are merged in the same order, the last one winning.
    ``config.recommendations`` (optional) may hold ``rules_file`` (another file name in the client
    folder), ``rules`` (a list), ``overrides`` and ``assumptions``.
    """
    book = builtin_rules()
    section = _config_section(config)
    folder = Path(client_dir) if client_dir is not None else None
    if folder is not None:
        name = section.get("rules_file") or _ROOT_RULES
        # inside the client folder, no symbolic links (cxaudit.paths.client_file)
        path = (client_file(folder, str(name), file=str(folder / "audit.yaml"), key="recommendations.rules_file")
                if section.get("rules_file") else client_file(folder, _ROOT_RULES, file=str(folder / _ROOT_RULES), key=""))
        if path.is_file():
            data = load_yaml(path)
            book = _merge_books(book, _parse(data, str(path)), str(path))
        elif section.get("rules_file"):
            raise ConfigError(str(folder / "audit.yaml"), "recommendations.rules_file",
                              f"file {name!r} not found in {folder}")
    inline = {k: section[k] for k in ("rules", "overrides", "assumptions") if k in section}
    if inline:
        shown = str(folder / "audit.yaml") if folder is not None else "audit.yaml"
        book = _merge_books(book, _parse(inline, shown, "recommendations"), shown)
    return book


# --- economics: what the run knows about NPS, CSAT, churn and money ------------------------------------


@dataclass(frozen=True)
class Economics:
    """The numbers the impact models and the targets read from the findings (``None``: unknown).

    Churn is on one horizon throughout: ``churn_horizon`` ``"12m"`` (per 12 months, when the churn
    section measured the overall and every group's rate per 12 months) or ``"window"`` (over the
    whole data period of ``churn_months`` months); ``churn_rate``, ``rates`` and ``gap_share`` are
    all on that horizon. ``rates_source``: ``"evidence"`` (all three group rates measured),
    ``"evidence_passive_assumed"`` (the passive rate put midway: an assumption) or ``"derived"``.
    ``customer_detractors`` is the detractor share among *customers* (the NPS group of each
    customer's most recent valid answer), the base of the churn rates; ``detractors`` is the share
    among survey respondents, the base of NPS.
    """

    detractors: float
    detractors_known: bool
    promoters: float | None = None
    nps: Finding | None = None
    csat: Finding | None = None
    churn_rate: float | None = None
    churn_ci: tuple[float, float] | None = None
    churn_n: int | None = None
    churn_horizon: str | None = None
    churn_months: float | None = None
    churn_window: float | None = None
    churn_window_months: float | None = None
    churn_ratio: float | None = None
    rates: dict[str, float] | None = None
    rates_ci: dict[str, tuple[float, float]] | None = None
    rates_n: dict[str, int] | None = None
    rates_source: str | None = None
    customer_detractors: float | None = None
    customer_detractors_count: tuple[int, int] | None = None
    revenue_at_risk: float | None = None
    revenue_at_risk_ci: tuple[float, float] | None = None
    revenue_n: int | None = None
    revenue_months: float | None = None
    uplift: float | None = None
    uplift_ci: tuple[float, float] | None = None
    currency: str = ""
    gap_share: float = 0.5
    gap_share_source: str = "assumption"
    #: what the impacts are in: "nps" (NPS points; ``detractors`` is the detractor share) or "outcome"
    #: (percentage points of the good share of a non-NPS outcome, ``cx_metrics.outcome.overall``;
    #: ``detractors`` is then the share of respondents *without* a good answer, ``promoters`` the good share)
    basis: str = "nps"
    outcome: Finding | None = None
    #: the outcome's names per language: ``label``, ``short``, ``low`` (the not-good group), ``unit``
    outcome_names: dict[str, dict[str, str]] | None = None

    def name(self, kind: str, lang: str) -> str:
        """One of the outcome's names in ``lang`` ("" on an NPS basis)."""
        return ((self.outcome_names or {}).get(kind) or {}).get(lang, "")


def _outcome_names(f: Finding) -> dict[str, dict[str, str]]:
    """Names of a non-NPS outcome per language from ``cx_metrics.outcome.overall`` (its evidence
    ``labels``), plus ``unit``: what an impact is counted in ("pts Satisfied passengers", "pts CSAT
    (top-2 box)")."""
    ev = f.evidence or {}
    labels = ev.get("labels")
    given: dict[str, Any] = labels if isinstance(labels, dict) else {}
    out: dict[str, dict[str, str]] = {k: dict(given.get(k) or {}) for k in ("label", "short", "low")}
    box = ev.get("top_box")
    for lg in LANGUAGES:
        short = out["short"].get(lg) or str(ev.get("outcome_label") or ev.get("outcome") or "")
        out["short"][lg] = short
        out["label"].setdefault(lg, short)
        out["low"].setdefault(lg, short)
        if ev.get("outcome_kind") == "scale" and isinstance(box, int) and not isinstance(box, bool):
            bx = t("outcome.top_box", lg) if box == 1 else t("outcome.top_k_box", lg, k=box)
            out.setdefault("unit", {})[lg] = t("tobe.unit.outcome_box_pts", lg, outcome=short, box=bx)
        else:
            out.setdefault("unit", {})[lg] = t("tobe.unit.outcome_pts", lg, outcome=short)
    return out


def _share(x: Any) -> float | None:
    """A share 0..1 from a share or a percentage; None for anything that is not a number."""
    if not isinstance(x, int | float) or isinstance(x, bool) or (isinstance(x, float) and math.isnan(x)):
        return None
    x = float(x)
    return x / 100 if x > 1 else x


def _pair(x: Any, scale: float = 1.0) -> tuple[float, float] | None:
    """``[lo, hi]`` of numbers as a tuple (times ``scale``), else None."""
    if isinstance(x, list | tuple) and len(x) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(v) for v in x):
        return float(x[0]) * scale, float(x[1]) * scale
    return None


def _find(findings: Sequence[Finding], fid: str) -> Finding | None:
    return next((f for f in findings if f.id == fid), None)


_RATE_GROUPS: tuple[str, ...] = ("promoter", "passive", "detractor")


@dataclass(frozen=True)
class _GroupRates:
    rates: dict[str, float]
    ci: dict[str, tuple[float, float]]
    n: dict[str, int]
    passive_assumed: bool


def _ev_rates(ev: Mapping[str, Any], horizon: str = "window") -> _GroupRates | None:
    """Churn rates by NPS group from a finding's evidence, on one horizon.

    ``"12m"``: ``rates_12m`` (``{group: share}``, interval ``rates_12m_ci``) or ``<group>_rate_12m``,
    as :func:`cxaudit.churn.churn_findings` writes them (per 12 months from the months at risk).
    ``"window"``: ``<group>_rate`` / ``rate_<group>`` (interval ``<group>_rate_ci``) or a ``rates``
    mapping: churn over the data period. Group bases from ``<group>s`` (a count). Promoter and
    detractor rates are required; a missing passive rate is put midway between them and flagged
    ``passive_assumed`` — an assumption, never reported as evidence.
    """
    nested = ev.get("rates_12m" if horizon == "12m" else "rates")
    nested_ci = ev.get("rates_12m_ci") if horizon == "12m" else None
    rates: dict[str, float] = {}
    ci: dict[str, tuple[float, float]] = {}
    n: dict[str, int] = {}
    for group in _RATE_GROUPS:
        if horizon == "12m":
            cands = [ev.get(f"{group}_rate_12m")]
        else:
            cands = [ev.get(k) for k in (f"rate_{group}", f"rate_{group}s", f"{group}_rate", f"{group}s_rate")]
        if isinstance(nested, dict):
            cands += [nested.get(group), nested.get(group + "s")]
        val = next((s for s in (_share(c) for c in cands) if s is not None), None)
        if val is None:
            continue
        rates[group] = val
        if horizon == "12m":
            pair = _pair(nested_ci.get(group)) if isinstance(nested_ci, dict) else None
        else:
            pair = _pair(ev.get(f"{group}_rate_ci"))
        if pair is not None:
            ci[group] = pair
        count = ev.get(f"{group}s")
        if isinstance(count, int) and not isinstance(count, bool):
            n[group] = count
    if "promoter" not in rates or "detractor" not in rates:
        return None
    assumed = "passive" not in rates
    rates.setdefault("passive", (rates["promoter"] + rates["detractor"]) / 2)
    return _GroupRates({k: rates[k] for k in _RATE_GROUPS}, ci, n, assumed)


def _customer_detractors(ev: Mapping[str, Any]) -> tuple[float | None, tuple[int, int] | None]:
    """Detractor share among customers (``detractor_share_customers``, or from ``customers_by_group``)."""
    by = ev.get("customers_by_group")
    count = None
    if isinstance(by, dict) and isinstance(by.get("detractor"), int):
        total = ev.get("n_customers")
        total = int(total) if isinstance(total, int) else int(sum(v for v in by.values() if isinstance(v, int)))
        count = (int(by["detractor"]), total) if total > 0 else None
    share = _share(ev.get("detractor_share_customers"))
    if share is None and count is not None:
        share = count[0] / count[1]
    return share, count


def economics(findings: Sequence[Finding], assumptions: Mapping[str, float] | None = None) -> Economics:
    """Collect detractor shares, CSAT, churn rates and revenue at risk from the run's findings.

    Reads ``cx_metrics.nps.overall`` (evidence ``promoters``/``detractors``: shares of respondents),
    ``cx_metrics.csat.overall``, ``churn.rate.overall`` (value: churn over the data period, %;
    evidence ``churn_12m`` with ``churn_12m_ci``: per 12 months), ``churn.detractor_ratio`` (value:
    the detractor / promoter churn ratio R; evidence: per-group rates on both horizons, see
    :func:`_ev_rates`, and the customers by NPS group) and ``churn.revenue_at_risk`` (evidence
    ``revenue_at_risk`` with ``revenue_at_risk_ci``, ``uplift_detractors_to_promoter_rate`` with
    ``uplift_ci``, ``horizon_months``, ``active_customers``, ``currency``).

    Horizon: per 12 months when both the overall rate and the group rates are there per 12 months
    (:func:`cxaudit.churn.exposure_rates`: 1 − exp(−12·D/T), a constant monthly hazard), else the
    data period for both. Never one horizon for the overall rate and another for the groups.

    When per-group rates are absent but c, R and the NPS shares are known, they are derived with
    passives churning midway between promoters and detractors (an assumption):
    r_p = c / (p + (1 − p − d)(1 + R)/2 + d R), r_d = R r_p, r_pa = (r_p + r_d)/2.

    The passive share of the churn gap, g = (r_d − r_pa) / (r_d − r_p), is "evidence" only when the
    passive rate was measured; otherwise it is the labelled assumption ``passive_churn_gap_share``
    (or 0.5 from the midway passive rate, which is the same assumption).
    """
    a = {**DEFAULT_ASSUMPTIONS, **(assumptions or {})}
    nps_f = _find(findings, "cx_metrics.nps.overall")
    d = p = None
    if nps_f is not None:
        d, p = _share(nps_f.evidence.get("detractors")), _share(nps_f.evidence.get("promoters"))
    basis, out_f, names = "nps", None, None
    if nps_f is None and (cand := _find(findings, "cx_metrics.outcome.overall")) is not None:
        low = _num((cand.evidence or {}).get("low"))  # a share 0..1 (not _share: 1.0 is a share here)
        if low is not None and 0 <= low <= 1:  # no NPS: the impacts are in points of this outcome
            d, p, basis, out_f, names = low, 1 - low, "outcome", cand, _outcome_names(cand)
    csat_f = _find(findings, "cx_metrics.csat.overall")
    rate_f = _find(findings, "churn.rate.overall")
    ratio_f = _find(findings, "churn.detractor_ratio")
    risk_f = _find(findings, "churn.revenue_at_risk")
    churn_fs = [f for f in (ratio_f, rate_f, risk_f) if f is not None]
    ev_rate = (rate_f.evidence or {}) if rate_f is not None else {}
    ratio = float(ratio_f.value) if ratio_f is not None and ratio_f.value > 0 else None

    churn: dict[str, Any] = {}
    if rate_f is not None:
        window = rate_f.value / 100 if rate_f.unit == "%" or rate_f.value > 1 else float(rate_f.value)
        scale = 0.01 if rate_f.unit == "%" or rate_f.value > 1 else 1.0
        win_ci = (None if rate_f.ci_low is None or rate_f.ci_high is None
                  else (rate_f.ci_low * scale, rate_f.ci_high * scale))
        win_months = _num(ev_rate.get("window_months"))
        churn = {"churn_rate": window, "churn_ci": win_ci, "churn_n": int(rate_f.n), "churn_horizon": "window",
                 "churn_months": win_months, "churn_window": window, "churn_window_months": win_months}
    grp12 = next((r for f in churn_fs if (r := _ev_rates(f.evidence or {}, "12m"))), None)
    grp_win = next((r for f in churn_fs if (r := _ev_rates(f.evidence or {}, "window"))), None)
    c12 = _share(ev_rate.get("churn_12m"))
    if rate_f is None:  # no overall rate: the group rates still give the gap share
        grp = grp12 or grp_win
    else:  # 12 months only if the groups are on 12 months too (or absent: then derived on 12 months)
        use12 = c12 is not None and (grp12 is not None or grp_win is None)
        grp = grp12 if use12 else grp_win
        if use12:
            n12 = ev_rate.get("churn_12m_n")
            churn |= {"churn_rate": c12, "churn_ci": _pair(ev_rate.get("churn_12m_ci")),
                      "churn_n": int(n12) if isinstance(n12, int) else int(rate_f.n),
                      "churn_horizon": "12m", "churn_months": 12.0}

    rates = rates_ci = rates_n = None
    source = None
    if grp is not None:
        rates, rates_ci, rates_n = grp.rates, grp.ci or None, grp.n or None
        source = "evidence_passive_assumed" if grp.passive_assumed else "evidence"
    churn_rate = churn.get("churn_rate")
    if rates is None and churn_rate is not None and ratio is not None and d is not None and p is not None:
        denom = p + (1 - p - d) * (1 + ratio) / 2 + d * ratio
        if denom > 0:
            rp = churn_rate / denom
            rates = {"promoter": rp, "passive": rp * (1 + ratio) / 2, "detractor": rp * ratio}
            source = "derived"
    gap, gap_src = a["passive_churn_gap_share"], "assumption"
    if source == "evidence" and rates is not None and rates["detractor"] > rates["promoter"]:
        gap = (rates["detractor"] - rates["passive"]) / (rates["detractor"] - rates["promoter"])
        gap, gap_src = min(max(gap, 0.0), 1.0), "evidence"
    dc, dc_count = _customer_detractors((ratio_f.evidence or {}) if ratio_f is not None else {})

    money: dict[str, Any] = {"currency": ""}
    if risk_f is not None:
        ev = risk_f.evidence or {}
        risk, uplift = _num(ev.get("revenue_at_risk", risk_f.value)), _num(ev.get("uplift_detractors_to_promoter_rate"))
        risk_ci = _pair(ev.get("revenue_at_risk_ci"))
        if risk_ci is None and risk_f.ci_low is not None and risk_f.ci_high is not None:
            risk_ci = (float(risk_f.ci_low), float(risk_f.ci_high))
        active = ev.get("active_customers")
        money = {"revenue_at_risk": risk, "revenue_at_risk_ci": risk_ci, "uplift": uplift,
                 "uplift_ci": _pair(ev.get("uplift_ci")) if uplift is not None else None,
                 "revenue_n": int(active) if isinstance(active, int) else int(risk_f.n),
                 "revenue_months": _num(ev.get("horizon_months")), "currency": str(ev.get("currency") or "")}
    val_f = _find(findings, "cx_metrics.outcome.value") if basis == "outcome" else None
    if val_f is not None and (up := _num((val_f.evidence or {}).get("uplift_low_to_good_rate"))) is not None:
        # the revenue link of a non-NPS outcome: revenue kept per period if the low group churned at the
        # good group's rate (cxaudit.scorecard); a customer moved takes the good rate: the whole gap
        ev = val_f.evidence or {}
        money |= {"uplift": up, "uplift_ci": None, "revenue_months": _num(ev.get("horizon_months")),
                  "currency": str(ev.get("currency") or money.get("currency") or "")}
        gap, gap_src = 1.0, "evidence"
    return Economics(
        detractors=d if d is not None else a["detractor_share"], detractors_known=d is not None, promoters=p,
        nps=nps_f, csat=csat_f, churn_ratio=ratio, rates=rates, rates_ci=rates_ci, rates_n=rates_n,
        rates_source=source, customer_detractors=dc, customer_detractors_count=dc_count,
        gap_share=gap, gap_share_source=gap_src, basis=basis, outcome=out_f, outcome_names=names, **churn, **money,
    )


def _num(x: Any) -> float | None:
    """A float from a number (not a bool, not NaN), else None."""
    if not isinstance(x, int | float) or isinstance(x, bool) or (isinstance(x, float) and math.isnan(x)):
        return None
    return float(x)


# --- text: placeholders filled from the finding, formatted for the language ---------------------------

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[A-Za-z0-9_]+)?)(?:\|([a-z0-9]+))?\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
FILTERS: tuple[str, ...] = ("pct", "pct100", "num0", "num1", "num2", "signed", "money", "x", "h", "min")
BASE_FIELDS: tuple[str, ...] = ("value", "n", "ci", "reach", "severity", "title", "count", "items",
                                "outcome", "low_group")  # the run's non-NPS outcome and its not-good group


def _fmt_filtered(x: Any, filt: str | None, lang: str, currency: str) -> str | None:
    if isinstance(x, str) and filt is None:
        return x
    if not isinstance(x, int | float) or isinstance(x, bool) or (isinstance(x, float) and math.isnan(x)):
        return None
    x = float(x)
    match filt:
        case "pct":
            return fmt_pct(_share(x) if x > 1 else x, lang)
        case "pct100":
            return fmt_pct(x / 100, lang)
        case "num0" | "num1" | "num2":
            return fmt_num(x, lang, int(filt[-1]))
        case "signed":
            return fmt_num(x, lang, 1, sign=True)
        case "money":
            return money_text(x, lang, currency)
        case "x":
            return f"{fmt_num(x, lang, 1)}\u00d7"
        case "h":
            return f"{fmt_num(x, lang, 1)}\u00a0{t('unit.hours', lang)}"
        case "min":
            return f"{fmt_num(x, lang, 0)}\u00a0{t('tobe.unit.minutes', lang)}"
        case None:
            return fmt_num(x, lang, 0) if x.is_integer() and abs(x) >= 10 else fmt_num(x, lang, 1)
    raise ValueError(f"unknown placeholder filter {filt!r}; known: {', '.join(FILTERS)}")


def money_text(x: float, lang: str, currency: str) -> str:
    """An amount as printed: no decimals from 100 up, two below; the currency after a no-break space."""
    digits = 0 if abs(x) >= 100 else 2
    return f"{fmt_num(x, lang, digits)}\u00a0{currency}".strip() if currency else fmt_num(x, lang, digits)


def _humanise(kind: str, value: str) -> str:
    if kind == "segments" and "=" in value:
        return value.split("=", 1)[1]
    if kind == "touchpoints" and value.startswith("tp_"):
        value = value[3:]
    return value.replace("_", " ")


def tag_label(kind: str, value: str, lang: str, labels: Mapping[str, Mapping[str, str]] | None = None,
              finding: Finding | None = None) -> str:
    """The client-facing name of a tag value.

    Looks in order at ``labels[kind]`` (e.g. touchpoint labels from the client's touchpoints table),
    the finding's evidence (``<kind>_label`` or ``label`` when it has one tag of that kind), the
    catalog (``tobe.<kind>.<value>``, e.g. ``tobe.theme.late_delivery``; channel codes and stage ids by
    :func:`cxaudit.i18n.value_label`, ``value.channel.<code>`` / ``value.stage.<id>``), and finally the
    value itself made readable (``tp_support_call`` -> ``support call``; ``segment=Small business`` -> ``Small business``).
    """
    if labels and value in labels.get(kind, {}):
        return str(labels[kind][value])
    if finding is not None:
        ev = finding.evidence or {}
        single = SINGULAR.get(kind, kind)
        if isinstance(ev.get(f"{single}_label"), str):
            return str(ev[f"{single}_label"])
        if isinstance(ev.get("label"), str) and len((finding.tags or {}).get(kind, [])) == 1:
            return str(ev["label"])
        if kind == "reasons" and isinstance(ev.get("reason"), str):
            return str(ev["reason"])
    if kind == "segments" and "=" in value:  # "channel=app": a channel named in the report language
        column, coded = value.split("=", 1)
        return value_label(column, coded, lang)
    key = f"tobe.{SINGULAR.get(kind, kind)}.{value}"
    if key in catalog(lang):
        return t(key, lang)
    if kind in ("channels", "stages"):  # channel codes and stage ids are named once, in values.yaml
        # (i18n.value_label); a channel inside a sentence, a stage capitalised as in the journey map
        name = value_label(SINGULAR[kind], value, lang, inline=kind == "channels")
        if name != value:
            return name
    return _humanise(kind, value)


def _tag_values(f: Finding, kind: str) -> list[str]:
    vals = [str(v) for v in (f.tags or {}).get(kind, [])]
    if not vals and kind == "reasons" and f.id.startswith("churn.reason."):
        vals = [f.id.removeprefix("churn.reason.")]
    if not vals and kind == "themes":
        prefix = next((p for p in ("voc.theme.", "voc.topic.", "voc.recurring.") if f.id.startswith(p)), None)
        if prefix is not None:
            vals = [f.id.removeprefix(prefix)]
    return vals


def _fields(fs: Sequence[Finding], lang: str, labels: Mapping[str, Mapping[str, str]] | None,
            econ: Economics) -> dict[str, Any]:
    """Placeholder values of one recommendation (the first finding's numbers; tag labels of all)."""
    f = fs[0]
    out: dict[str, Any] = {
        "value": format_value(f, lang)[0],
        "n": fmt_num(f.n, lang, 0),
        "ci": format_value(f, lang)[1] if f.ci_low is not None and f.ci_high is not None else None,
        "reach": fmt_pct(f.reach, lang),
        "severity": str(int(f.severity)),
        "title": f.title,
        "count": fmt_num(len(fs), lang, 0),
        "_ev": dict(f.evidence or {}),
        "_raw": {"value": f.value, "n": f.n, "reach": f.reach, "severity": f.severity},
        "_currency": econ.currency,
        # a non-NPS outcome (issue 13): its name and its not-good group, in this language (None on NPS)
        "outcome": econ.name("short", lang) or None,
        "low_group": econ.name("low", lang) or None,
    }
    items: list[str] = []
    for kind in TAG_KINDS:
        seen: list[str] = []
        for g in fs:
            for v in _tag_values(g, kind):
                lab = tag_label(kind, v, lang, labels, g)
                if lab not in seen:
                    seen.append(lab)
        if seen:
            out[SINGULAR[kind]] = seen[0]
            out[kind] = ", ".join(seen)
            items = items or seen
    out["items"] = ", ".join(items) if items else None
    return out


# Rule texts are Jinja2 templates (a sandboxed environment, no autoescaping: the texts are plain text and
# every output escapes them, cxaudit.show). The delimiters are << >> and <% %> so that a template sits in
# the i18n catalogs next to str.format strings without a brace: "<< value|num1 >>" prints a value,
# "<% if (ev.rest_nps|signed) is filled %>, << ev.rest_nps|signed >> for the rest<% endif %>" an optional
# part. The filters are FILTERS (language and currency from the context); a value that is missing
# prints "–". Rule files written in the earlier syntax ("{value|num1}", "[[ ... ]]") are converted on load
# (:func:`legacy_to_jinja`).


class _Val(str):
    """A formatted base field ("42%") that keeps its raw number for a filter (``value|num1``)."""

    raw: Any = None

    def __new__(cls, text: str, raw: Any) -> _Val:
        out = super().__new__(cls, text)
        out.raw = raw
        return out


class _Ev:
    """A finding's evidence for the templates: ``ev.key`` is the value, None when absent (an
    attribute lookup never reaches a method of a dict, so ``ev.items`` is the evidence key)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._data.get(key)


def _plain(x: Any) -> Any:
    return None if isinstance(x, jinja2.Undefined) else getattr(x, "raw", x)


def _filter(name: str) -> Any:
    @jinja2.pass_context
    def apply(ctx: Any, x: Any) -> str | None:
        raw = _plain(x)
        return _fmt_filtered(raw, name, ctx.get("_lang", "en"), ctx.get("_currency", "") or "")
    return apply


@jinja2.pass_context
def _finalize(ctx: Any, x: Any) -> str:
    if x is None or isinstance(x, jinja2.Undefined):
        return "–"
    if isinstance(x, str):
        return str(x)
    out = _fmt_filtered(x, None, ctx.get("_lang", "en"), ctx.get("_currency", "") or "")
    return "–" if out is None else out


def _environment() -> jinja2.Environment:
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        variable_start_string="<<", variable_end_string=">>", block_start_string="<%", block_end_string="%>",
        comment_start_string="<#", comment_end_string="#>", autoescape=False, finalize=_finalize,
        keep_trailing_newline=False)
    env.filters = {f: _filter(f) for f in FILTERS}
    env.tests = {"filled": lambda x: x is not None and not isinstance(x, jinja2.Undefined)}
    return env


_JINJA = _environment()


def legacy_to_jinja(template: str) -> str:
    """A rule text of the earlier syntax as a Jinja2 template: ``{name|filter}`` -> ``<< name|filter >>``,
    ``[[ ... ]]`` -> ``<% if (...) is filled and ... %>...<% endif %>``. A template that already uses
    ``<<`` or ``<%`` is returned as it is."""
    if "<<" in template or "<%" in template:
        return template

    def expr(m: re.Match[str]) -> str:
        return f"{m.group(1)}|{m.group(2)}" if m.group(2) else m.group(1)

    def optional(m: re.Match[str]) -> str:
        part = m.group(1)
        conds = [f"({expr(x)}) is filled" for x in _PLACEHOLDER.finditer(part)]
        body = _PLACEHOLDER.sub(lambda x: f"<< {expr(x)} >>", part)
        return f"<% if {' and '.join(conds)} %>{body}<% endif %>" if conds else body

    return _PLACEHOLDER.sub(lambda x: f"<< {expr(x)} >>", _OPTIONAL.sub(optional, template))


def _compile(template: str) -> jinja2.Template:
    try:
        return _JINJA.from_string(template)
    except jinja2.TemplateError as exc:
        known = ", ".join(FILTERS)
        raise ValueError(f"rule text {template[:60]!r}: {exc} (unknown placeholder filter? known: {known})") from None


def _context(values: Mapping[str, Any], lang: str) -> dict[str, Any]:
    raw = values.get("_raw") or {}
    ctx: dict[str, Any] = {k: (_Val(v, raw[k]) if k in raw and isinstance(v, str) else v)
                           for k, v in values.items() if not k.startswith("_")}
    for k in (*BASE_FIELDS, *SINGULAR.values(), *SINGULAR):
        ctx.setdefault(k, None)
    ctx |= {"ev": _Ev(values.get("_ev") or {}), "_lang": lang, "_currency": str(values.get("_currency", "") or "")}
    return ctx


def render_template(template: str, values: Mapping[str, Any], lang: str) -> str:
    """Render a rule text (a Jinja2 template, sandboxed; plain text: the caller escapes) with the
    placeholder values of :func:`_fields`, formatted for ``lang``."""
    text = _compile(template).render(_context(values, lang))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def render_text(template: str, values: Mapping[str, Any], lang: str) -> str:
    """Fill a rule text of the earlier syntax (``{name}``, ``{name|filter}``, ``{ev.key|filter}``,
    optional ``[[ ... ]]``): converted by :func:`legacy_to_jinja`, rendered by :func:`render_template`.

    An optional part is dropped when any placeholder inside it has no value; a required placeholder
    without a value becomes "–". Values are plain text (the caller escapes).

    Examples
    --------
    >>> render_text("Answer in {ev.hours|h}[[, not {ev.missing}]].", {"_ev": {"hours": 6.25}}, "ru")
    'Answer in 6,2\xa0ч.'
    """
    return render_template(legacy_to_jinja(template), values, lang)


def placeholders(template: str) -> set[str]:
    """Names a rule text uses (``ev.*`` counted as ``ev``), earlier syntax or Jinja2."""
    ast = _JINJA.parse(legacy_to_jinja(template))
    return {n.name for n in ast.find_all(jinja2.nodes.Name) if n.ctx == "load"}


def template_fields(template: str) -> set[str]:
    """Names and evidence keys a rule text prints or tests ("value", "ev.rest_nps"), for checks that
    the three languages of a rule use the same ones."""
    ast = _JINJA.parse(legacy_to_jinja(template))
    out = {n.name for n in ast.find_all(jinja2.nodes.Name) if n.ctx == "load" and n.name != "ev"}
    out |= {f"ev.{g.attr}" for g in ast.find_all(jinja2.nodes.Getattr)
            if isinstance(g.node, jinja2.nodes.Name) and g.node.name == "ev"}
    return out


# --- the engine ------------------------------------------------------------------------------------------


@dataclass
class Recommendation:
    """One prioritised change, with the findings behind it and what it is worth.

    ``texts[lang]`` holds ``title``, ``action`` and ``impact_note`` (the stated assumption) in each
    report language; numbers are kept raw and formatted by the report.
    """

    id: str
    rule: str
    family: str
    findings: list[str]
    evidence: list[dict[str, Any]]
    texts: dict[str, dict[str, str]]
    impact_nps: float
    detractor_move: float
    impact_model: str
    revenue: float | None
    currency: str
    effort: str
    horizon: str
    tags: dict[str, list[str]]
    owner: str
    measure: dict[str, Any]
    score: float = 0.0
    quadrant: str = ""
    rank: int = 0
    overridden: list[str] = field(default_factory=list)
    # business case (cxaudit.business_case.finalise): what it costs, what it is worth, who owns it
    # and by when; ``on_plan`` False for "reconsider" items, which leave the roadmap and the plan total
    cost: float | None = None
    cost_source: str = ""
    kpi: dict[str, Any] = field(default_factory=dict)
    target: float | None = None
    due: str | None = None
    roi: float | None = None
    payback_months: float | None = None
    scenarios: dict[str, dict[str, float | None]] = field(default_factory=dict)
    on_plan: bool = True
    #: what ``impact_nps`` is counted in, per language, when it is not NPS (issue 13): percentage
    #: points of the run's outcome ("pts Satisfied passengers"); empty: NPS points
    impact_unit: dict[str, str] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.texts[lang]["title"]

    def action(self, lang: str) -> str:
        return self.texts[lang]["action"]

    def label(self, lang: str) -> str:
        """``R1``, ``Р1``, ... — how the report refers to it."""
        return f"{t('tobe.rec_prefix', lang)}{self.rank}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return json.loads(json.dumps(d, default=float))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recommendation:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(d).items() if k in known})


def _importance(f: Finding, findings: Sequence[Finding]) -> float | None:
    """A touchpoint's key-driver importance (0..1) from the finding or a driver finding of the same touchpoint."""
    def pick(g: Finding) -> float | None:
        for k in _IMPORTANCE_KEYS:
            s = _share((g.evidence or {}).get(k))
            if s is not None:
                return s
        return None

    own = pick(f)
    if own is not None:
        return own
    tps = set(_tag_values(f, "touchpoints"))
    if not tps:
        return None
    for g in findings:
        if g is not f and "driver" in g.id and tps & set(_tag_values(g, "touchpoints")):
            val = pick(g)
            if val is None and g.unit == "%":
                val = _share(g.value)
            if val is not None:
                return val
    return None


def _spec_share(spec: str | float | None, f: Finding, econ: Economics) -> float | None:
    if spec is None:
        return None
    if isinstance(spec, int | float):
        return float(spec)
    if spec == "reach":
        return float(f.reach)
    if spec == "detractors":
        return econ.detractors
    if spec.startswith("ev."):
        return _share((f.evidence or {}).get(spec[3:]))
    raise ValueError(f"unknown share spec {spec!r}")


def _impact(rule: Rule, f: Finding, findings: Sequence[Finding], econ: Economics,
            a: Mapping[str, float]) -> tuple[float, str, dict[str, Any]]:
    """(ΔNPS, model used, the numbers the assumption note quotes) for one finding.

    ``detractor_shift`` also says where the detractor share among the affected comes from
    (``da_source``): ``"rule"`` (the rule's ``affected_detractors``), ``"evidence"`` (measured among
    the affected customers: ``evidence["detractor_share"]`` and the other :data:`_DETRACTOR_KEYS`,
    with ``<key>_n`` / ``<key>_ci`` when the finding has them) or ``"overall"`` (the overall
    detractor share, assumed for the affected customers: the note labels it an assumption)."""
    spec = rule.impact
    d = econ.detractors
    model = spec.model
    basis = (f.evidence or {}).get("basis")
    if basis == "frequency" or (basis == "outcome" and econ.basis != "outcome"):
        model = "none"  # counted only, or compared on another outcome than the run's: no effect invented
    if model == "none":
        return 0.0, "none", {}
    if model == "fixed":
        return float(spec.nps or 0.0), "fixed", {"nps": float(spec.nps or 0.0)}
    closure = spec.closure if spec.closure is not None else a["closure"]
    if model == "driver_share":
        w = _importance(f, findings)
        if w is not None:
            return 100 * d * w * closure, "driver_share", {"d": d, "w": w, "c": closure}
        model = "detractor_shift"
    if model == "segment_gap":
        ev = f.evidence or {}
        gap = None
        kind = "segment_gap"
        if isinstance(ev.get("gap"), int | float) and not isinstance(ev.get("gap"), bool):
            gap, kind = float(ev["gap"]), "low_raters"
        elif isinstance(ev.get("rest_nps"), int | float):
            gap = float(ev["rest_nps"]) - float(f.value)
        elif isinstance(ev.get("rest_value"), int | float) and not isinstance(ev.get("rest_value"), bool):
            gap = float(ev["rest_value"]) - float(f.value)  # a segment's good share vs the rest (pp, outcome)
        elif isinstance(ev.get("diff"), int | float):
            gap = -float(ev["diff"])
        r = _spec_share(spec.reach, f, econ) or 0.0
        if gap is not None and gap > 0:
            return r * gap * closure, kind, {"r": r, "gap": gap, "c": closure}
        w = _importance(f, findings)  # no gap in the evidence: fall back to the driver model
        if w is not None:
            return 100 * d * w * closure, "driver_share", {"d": d, "w": w, "c": closure}
        model = "detractor_shift"
    share = _spec_share(spec.reach, f, econ)
    r = 0.0 if share is None else min(max(share, 0.0), 1.0)
    ev = f.evidence or {}
    da = _spec_share(spec.affected_detractors, f, econ)
    extra: dict[str, Any] = {"da_source": "rule"}
    if da is None:
        key = next((k for k in _DETRACTOR_KEYS if _share(ev.get(k)) is not None), None)
        if key is not None:  # measured among the affected customers: quote its base and interval
            da, extra = _share(ev[key]), {"da_source": "evidence"}
            n_da, ci_da = ev.get(f"{key}_n"), _pair(ev.get(f"{key}_ci"))
            if isinstance(n_da, int) and not isinstance(n_da, bool):
                extra["da_n"] = n_da
            if ci_da is not None:
                extra["da_ci"] = ci_da
    if da is None:  # not measured among them: the overall share, an assumption the note says
        da, extra = d, {"da_source": "overall"}
    s = spec.shift if spec.shift is not None else a["shift"]
    return 100 * r * min(da, 1.0) * s, "detractor_shift", {"r": r, "da": min(da, 1.0), "s": s, **extra}


#: The assumption notes of an impact in percentage points of a non-NPS outcome (issue 13).
_OUTCOME_NOTES: dict[str, str] = {
    "none": "tobe.assume_outcome.none", "fixed": "tobe.assume_outcome.fixed",
    "driver_share": "tobe.assume_outcome.driver_share", "segment_gap": "tobe.assume_outcome.segment_gap",
    "low_raters": "tobe.assume_outcome.low_raters", "detractor_shift": "tobe.assume_outcome.detractor_shift",
    "detractor_shift_measured": "tobe.assume_outcome.detractor_shift_measured",
    "detractor_shift_overall": "tobe.assume_outcome.detractor_shift_overall",
    "measured_base": "tobe.assume_outcome.measured_base", "measured_base_ci": "tobe.assume_outcome.measured_base_ci",
}


def _note(model: str, p: Mapping[str, Any], lang: str, econ: Economics) -> str:
    """The stated assumption of one impact, in the report language: in NPS terms, or (``econ.basis``
    "outcome") in percentage points of the outcome actually used, naming it."""
    o = {"outcome": econ.name("short", lang), "low": econ.name("low", lang)}

    def tt(model: str, **kw: Any) -> str:  # the note's model or one of its parts
        if econ.basis == "outcome":
            return t(_OUTCOME_NOTES[model], lang, **kw, **o)
        return t(f"tobe.assume.{model}", lang, **kw)

    if model == "none":
        return tt("none")
    if model == "fixed":
        return tt("fixed", nps=fmt_num(p["nps"], lang, 1))
    if model == "driver_share":
        return tt("driver_share", w=fmt_pct(p["w"], lang), d=fmt_pct(p["d"], lang), c=fmt_pct(p["c"], lang))
    if model in ("segment_gap", "low_raters"):
        return tt(model, r=fmt_pct(p["r"], lang), gap=fmt_num(p["gap"], lang, 1), c=fmt_pct(p["c"], lang))
    src = p.get("da_source", "rule")
    if src == "evidence":
        base = ""
        if "da_n" in p and "da_ci" in p:
            base = tt("measured_base_ci", n=fmt_num(p["da_n"], lang, 0),
                      ci=fmt_ci(p["da_ci"][0], p["da_ci"][1], lang, 0, 100))
        elif "da_n" in p:
            base = tt("measured_base", n=fmt_num(p["da_n"], lang, 0))
        return tt("detractor_shift_measured", r=fmt_pct(p["r"], lang), da=fmt_pct(p["da"], lang),
                  s=fmt_pct(p["s"], lang), base=base)
    key = "detractor_shift_overall" if src == "overall" else "detractor_shift"
    return tt(key, r=fmt_pct(p["r"], lang), da=fmt_pct(p["da"], lang), s=fmt_pct(p["s"], lang))


def _evidence_row(f: Finding, lang: str) -> dict[str, Any]:
    return {"id": f.id, "title": f.title, "value": f.value, "unit": f.unit, "n": int(f.n), "ci_low": f.ci_low,
            "ci_high": f.ci_high, "severity": int(f.severity), "reach": float(f.reach),
            "value_text": format_value(f, lang)[0]}


def _combine(ms: Iterable[float]) -> float:
    """1 − Π(1 − m_i): independent shares of one pool."""
    keep = 1.0
    for m in ms:
        keep *= 1 - min(max(m, 0.0), 1.0)
    return 1 - keep


def recommend(
    findings: Sequence[Finding],
    book: RuleBook | None = None,
    *,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    lang: str = "en",
) -> list[Recommendation]:
    """Fire the rules on the findings and return the recommendations, ranked (``rank`` 1 = first).

    Parameters
    ----------
    findings : sequence of Finding
        Whatever the run produced; rules without a matching finding do not fire.
    book : RuleBook, optional
        Rules, overrides and assumptions (default: :func:`builtin_rules`).
    labels : mapping, optional
        ``{tag kind: {value: client-facing label}}``, e.g. touchpoint labels from the client's data.
    lang : str
        Language of the evidence lines (finding titles are already in the run's language); the
        recommendation texts are rendered in every language.

    Notes
    -----
    Priority score = ΔNPS / effort cost (low 1, medium 2, high 3), times an override ``weight``, or
    the override's ``priority``. Ties: revenue, then the triggering finding's severity × reach, then
    rule order. Quadrant: ΔNPS ≥ ``quick_win_min_nps`` is high impact; low effort is quick.
    """
    book = book or builtin_rules()
    a = {**DEFAULT_ASSUMPTIONS, **book.assumptions}
    econ = economics(findings, a)
    claimed: dict[str, set[str]] = {}
    cands: list[tuple[int, Recommendation, float]] = []
    for order, rule in enumerate(book.rules):
        ov = book.overrides.get(rule.id)
        enabled = rule.enabled if ov is None or ov.enabled is None else ov.enabled
        if not enabled:
            continue
        matched = []
        for f in findings:
            if rule.group and f.id in claimed.get(rule.group, set()):
                continue
            if rule.when.matches(f):
                matched.append(f)
        if not matched:
            continue
        if rule.group:
            claimed.setdefault(rule.group, set()).update(f.id for f in matched)
        batches = [matched] if rule.per == "all" else [[f] for f in matched]
        for batch in batches:
            rec, prio = _build(rule, batch, findings, econ, a, labels, lang)
            cands.append((order, rec, prio))
    recs = _merge(cands)
    return _rank(recs, book, a, econ)


def _build(rule: Rule, batch: list[Finding], findings: Sequence[Finding], econ: Economics,
           a: Mapping[str, float], labels: Mapping[str, Mapping[str, str]] | None,
           lang: str) -> tuple[Recommendation, float]:
    impacts = [_impact(rule, f, findings, econ, a) for f in batch]
    d = econ.detractors
    ms = [min(i[0] / (100 * d), 1.0) if d > 0 else 0.0 for i in impacts]
    m = _combine(ms)
    delta = 100 * d * m if len(batch) > 1 else impacts[0][0]
    lead = max(range(len(batch)), key=lambda i: impacts[i][0])
    model, params = impacts[lead][1], impacts[lead][2]
    tags: dict[str, list[str]] = {}
    for f in batch:
        for kind in TAG_KINDS:
            for v in _tag_values(f, kind):
                tags.setdefault(kind, [])
                if v not in tags[kind]:
                    tags[kind].append(v)
    texts: dict[str, dict[str, str]] = {}
    for lg in LANGUAGES:
        vals = _fields(batch, lg, labels, econ)
        texts[lg] = {
            "title": render_template(rule.text[lg].title, vals, lg),  # type: ignore[index]  # lg is one of LANGUAGES
            "action": render_template(rule.text[lg].action, vals, lg),  # type: ignore[index]
            "impact_note": _note(model, params, lg, econ),
        }
    owner_vals = tags.get(rule.owner, [])
    owner = ", ".join(tag_label(rule.owner, v, lang, labels, batch[0]) for v in owner_vals)
    if not owner and rule.owner_default:  # no finding names a department: the rule's default owner
        owner = tag_label("departments", rule.owner_default, lang)
    f0 = batch[0]
    where_kind = rule.measure.where
    where = ""
    if where_kind:
        where = ", ".join(tag_label(where_kind, v, lang, labels, f0) for v in tags.get(where_kind, []))
    unit = rule.measure.unit if rule.measure.unit is not None else f0.unit
    baseline: float | None = None
    if rule.measure.baseline == "value":
        baseline = float(f0.value)
    elif rule.measure.baseline.startswith("ev."):
        raw = (f0.evidence or {}).get(rule.measure.baseline[3:])
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            baseline = 100 * float(raw) if unit == "%" and abs(raw) <= 1 else float(raw)
    measure = {"metric": rule.measure.metric, "frequency": rule.measure.frequency, "where_kind": where_kind,
               "where": where, "baseline": baseline, "unit": unit,
               "target": rule.target.apply(baseline, f0.evidence) if rule.target is not None and baseline is not None
               else None}
    revenue = econ.uplift * m * econ.gap_share if econ.uplift is not None and m > 0 else None
    key = rule.id + ":" + ("+".join(f.id for f in batch) if rule.per == "finding" else "all")
    rec = Recommendation(
        id=key, rule=rule.id, family=rule.family, findings=[f.id for f in batch],
        evidence=[_evidence_row(f, lang) for f in batch], texts=texts, impact_nps=float(delta),
        detractor_move=float(m), impact_model=model, revenue=revenue, currency=econ.currency,
        effort=rule.effort, horizon=rule.horizon, tags=tags, owner=owner, measure=measure,
        impact_unit=dict((econ.outcome_names or {}).get("unit") or {}) if econ.basis == "outcome" else {},
    )
    # merge keys use the raw tag values (the first of each kind), e.g. "touchpoint:{touchpoint}"
    key_text = render_text(rule.merge, {SINGULAR[k]: v[0] for k, v in tags.items() if v}, "en") if rule.merge else None
    rec.measure["_merge"] = key_text if key_text and "–" not in key_text else None
    return rec, max(f.priority for f in batch)


def _merge(cands: list[tuple[int, Recommendation, float]]) -> list[tuple[int, Recommendation, float]]:
    """Merge candidates sharing a merge key: the larger impact keeps its text, findings are united."""
    out: list[tuple[int, Recommendation, float]] = []
    by_key: dict[str, int] = {}
    for order, rec, prio in cands:
        key = rec.measure.pop("_merge", None)
        if key is None or key not in by_key:
            if key is not None:
                by_key[key] = len(out)
            out.append((order, rec, prio))
            continue
        i = by_key[key]
        o_order, other, o_prio = out[i]
        keep, extra = (rec, other) if rec.impact_nps > other.impact_nps else (other, rec)
        for fid, ev in zip(extra.findings, extra.evidence, strict=True):
            if fid not in keep.findings:
                keep.findings.append(fid)
                keep.evidence.append(ev)
        for kind, vals in extra.tags.items():
            keep.tags.setdefault(kind, [])
            keep.tags[kind] += [v for v in vals if v not in keep.tags[kind]]
        out[i] = (min(order, o_order), keep, max(prio, o_prio))
    return out


def _rank(cands: list[tuple[int, Recommendation, float]], book: RuleBook, a: Mapping[str, float],
          econ: Economics) -> list[Recommendation]:
    scored = []
    for order, rec, prio in cands:
        ov = book.overrides.get(rec.rule)
        if ov is not None:
            if ov.effort is not None:
                rec.effort = ov.effort
                rec.overridden.append("effort")
            if ov.horizon is not None:
                rec.horizon = ov.horizon
                rec.overridden.append("horizon")
            if ov.impact_nps is not None:
                rec.impact_nps = float(ov.impact_nps)
                d = econ.detractors
                rec.detractor_move = min(ov.impact_nps / (100 * d), 1.0) if d > 0 else 0.0
                rec.impact_model = "fixed"
                for lg in LANGUAGES:
                    rec.texts[lg]["impact_note"] = _note("fixed", {"nps": float(ov.impact_nps)}, lg, econ)
                rec.revenue = (econ.uplift * rec.detractor_move * econ.gap_share
                               if econ.uplift is not None and rec.detractor_move > 0 else None)
                rec.overridden.append("impact_nps")
        rec.score = rec.impact_nps / EFFORT_COST[rec.effort]
        if ov is not None and ov.weight is not None:
            rec.score *= ov.weight
            rec.overridden.append("weight")
        if ov is not None and ov.priority is not None:
            rec.score = float(ov.priority)
            rec.overridden.append("priority")
        high = rec.impact_nps >= a["quick_win_min_nps"]
        quick = rec.effort == "low"
        rec.quadrant = ("quick_win" if quick else "strategic") if high else ("fill_in" if quick else "reconsider")
        scored.append((order, rec, prio))
    scored.sort(key=lambda x: (-x[1].score, -(x[1].revenue or 0.0), -x[2], x[0]))
    out = []
    for i, (_, rec, _) in enumerate(scored, start=1):
        rec.rank = i
        out.append(rec)
    return out


# --- targets -----------------------------------------------------------------------------------------------


@dataclass
class Targets:
    """TO-BE targets of the whole plan (12 months) and the revenue case.

    Shares are 0..1 except NPS (points) and CSAT (%). ``None``: the run has no such metric. Every
    AS-IS value keeps its 95% interval (``*_ci``) and base (``*_n``) from its finding. Churn
    (``churn_*``, ``rates``) is on one horizon, ``churn_horizon``: ``"12m"`` or ``"window"`` (the
    data period of ``churn_months`` months); ``churn_window`` is the whole-period rate, for reference.
    ``detractors`` is the detractor share among respondents (NPS, CSAT); ``detractors_customers``
    the share among customers (churn), ``detractors_customers_source`` ``"customers"`` when the
    churn section gave it, ``"respondents"`` when the respondents' share stands in for it.
    """

    detractor_move: float
    detractor_move_uncapped: float
    detractors: float
    nps_as_is: float | None = None
    nps_to_be: float | None = None
    nps_n: int | None = None
    nps_ci: tuple[float, float] | None = None
    csat_as_is: float | None = None
    csat_to_be: float | None = None
    csat_n: int | None = None
    csat_ci: tuple[float, float] | None = None
    churn_as_is: float | None = None
    churn_to_be: float | None = None
    churn_ci: tuple[float, float] | None = None
    churn_n: int | None = None
    churn_horizon: str | None = None
    churn_months: float | None = None
    churn_window: float | None = None
    churn_window_months: float | None = None
    detractors_customers: float | None = None
    detractors_customers_count: tuple[int, int] | None = None
    detractors_customers_source: str = "respondents"
    rates: dict[str, float] | None = None
    rates_ci: dict[str, tuple[float, float]] | None = None
    rates_n: dict[str, int] | None = None
    rates_source: str | None = None
    revenue_at_risk: float | None = None
    revenue_at_risk_ci: tuple[float, float] | None = None
    revenue_n: int | None = None
    revenue_months: float | None = None
    uplift: float | None = None
    uplift_ci: tuple[float, float] | None = None
    revenue_kept: float | None = None
    revenue_kept_ci: tuple[float, float] | None = None
    currency: str = ""
    gap_share: float = 0.5
    gap_share_source: str = "assumption"
    #: per metric (nps, csat, churn, outcome): estimate, target, reset, n_needed (cxaudit.business_case.check_targets)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: "nps", or "outcome" when the run has no NPS and the impacts are in points of a non-NPS outcome
    #: (issue 13); then ``detractors`` is the share of respondents without a good answer and
    #: ``outcome_*`` hold its good share (%), 95% interval, base and TO-BE = as-is + 100 d M
    basis: str = "nps"
    outcome_as_is: float | None = None
    outcome_to_be: float | None = None
    outcome_n: int | None = None
    outcome_ci: tuple[float, float] | None = None
    outcome_column: str | None = None
    outcome_names: dict[str, dict[str, str]] | None = None

    def outcome_name(self, lang: str, kind: str = "label") -> str:
        """The outcome's name in ``lang`` ("" on an NPS basis)."""
        return ((self.outcome_names or {}).get(kind) or {}).get(lang, "")

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=float))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Targets:
        """From :meth:`to_dict` (JSON): intervals back to tuples; keys of other versions ignored."""
        known = {f.name for f in fields(cls)}
        out = {k: v for k, v in d.items() if k in known}
        for k, v in out.items():
            if (k.endswith("_ci") or k.endswith("_count")) and isinstance(v, list):
                out[k] = tuple(v)
        if isinstance(out.get("rates_ci"), dict):
            out["rates_ci"] = {g: tuple(v) for g, v in out["rates_ci"].items()}
        return cls(**out)


def targets(recs: Sequence[Recommendation], findings: Sequence[Finding], book: RuleBook | None = None) -> Targets:
    """Targets of the plan: M = min(1 − Π(1 − m_i), max_detractor_move) of the detractors move to passive.

    NPS_TO-BE = NPS + 100 d M and CSAT_TO-BE = CSAT + 100 d M, with d the detractor share among
    respondents (the base of NPS). churn_TO-BE = c − d_c M (r_d − r_pa), with d_c the detractor
    share among *customers* (each customer's NPS group from their most recent valid answer, as the
    churn section assigns it; the respondents' d only when the findings lack it) and c, r_d, r_pa
    the overall, detractor and passive churn on one horizon — per 12 months when the churn section
    measured them so (:func:`economics`). Revenue kept = uplift × M × g, g = (r_d − r_pa)/(r_d − r_p),
    with the uplift's interval carried through (M and g are held fixed: assumptions).
    """
    book = book or builtin_rules()
    econ = economics(findings, book.assumptions)
    raw = _combine(r.detractor_move for r in recs)
    m = min(raw, book.a("max_detractor_move"))
    d = econ.detractors
    dc_known = econ.customer_detractors is not None
    out = Targets(detractor_move=m, detractor_move_uncapped=raw, detractors=d, currency=econ.currency,
                  detractors_customers=econ.customer_detractors if dc_known else d,
                  detractors_customers_count=econ.customer_detractors_count if dc_known else None,
                  detractors_customers_source="customers" if dc_known else "respondents",
                  rates=econ.rates, rates_ci=econ.rates_ci, rates_n=econ.rates_n, rates_source=econ.rates_source,
                  revenue_at_risk=econ.revenue_at_risk, revenue_at_risk_ci=econ.revenue_at_risk_ci,
                  revenue_n=econ.revenue_n, revenue_months=econ.revenue_months, uplift=econ.uplift,
                  uplift_ci=econ.uplift_ci, gap_share=econ.gap_share, gap_share_source=econ.gap_share_source)
    if econ.nps is not None:
        f = econ.nps
        out.nps_as_is, out.nps_n = float(f.value), int(f.n)
        out.nps_ci = (f.ci_low, f.ci_high) if f.ci_low is not None and f.ci_high is not None else None
        out.nps_to_be = min(float(f.value) + 100 * d * m, 100.0)
    if econ.basis == "outcome" and econ.outcome is not None:  # the good share of the non-NPS outcome
        f = econ.outcome
        out.basis, out.outcome_names = "outcome", econ.outcome_names
        out.outcome_column = str((f.evidence or {}).get("outcome") or "") or None
        out.outcome_as_is, out.outcome_n = float(f.value), int(f.n)
        out.outcome_ci = (f.ci_low, f.ci_high) if f.ci_low is not None and f.ci_high is not None else None
        out.outcome_to_be = min(float(f.value) + 100 * d * m, 100.0)
    if econ.csat is not None and not (out.basis == "outcome" and out.outcome_column == "csat"):
        f = econ.csat
        c = float(f.value)
        out.csat_as_is, out.csat_n = c, int(f.n)
        out.csat_ci = (f.ci_low, f.ci_high) if f.ci_low is not None and f.ci_high is not None else None
        out.csat_to_be = min(c + 100 * d * m, 100.0)
    if econ.churn_rate is not None:
        out.churn_as_is, out.churn_ci, out.churn_n = econ.churn_rate, econ.churn_ci, econ.churn_n
        out.churn_horizon, out.churn_months = econ.churn_horizon, econ.churn_months
        out.churn_window, out.churn_window_months = econ.churn_window, econ.churn_window_months
        if econ.rates is not None and out.detractors_customers is not None:
            drop = out.detractors_customers * m * max(econ.rates["detractor"] - econ.rates["passive"], 0.0)
            out.churn_to_be = max(econ.churn_rate - drop, 0.0)
    if econ.uplift is not None:
        out.revenue_kept = econ.uplift * m * econ.gap_share
        if econ.uplift_ci is not None:
            out.revenue_kept_ci = (econ.uplift_ci[0] * m * econ.gap_share, econ.uplift_ci[1] * m * econ.gap_share)
    return out


# --- journey map, roadmap, measurement plan ---------------------------------------------------------------


def journey_map(recs: Sequence[Recommendation], findings: Sequence[Finding], *,
                touchpoints: pd.DataFrame | None = None, ratings: pd.DataFrame | None = None,
                stages: Sequence[str] | None = None, lang: str = "en",
                assumptions: Mapping[str, float] | None = None) -> pd.DataFrame:
    """TO-BE journey map: one row per touchpoint, stage order, AS-IS vs target rating and the changes.

    Parameters
    ----------
    touchpoints : DataFrame, optional
        The canonical ``touchpoints`` table (``touchpoint``, ``stage``, ``channel``, ``label``). Without
        it, touchpoints and stages come from the findings' tags.
    ratings : DataFrame, optional
        ``responses`` with ``tp_<touchpoint>`` columns (or columns named like the touchpoint ids).

    Returns
    -------
    DataFrame
        ``stage, stage_label, touchpoint, label, n, as_is, sd, target, changes, pain_points``. The target
        of a touchpoint some change addresses closes ``journey_gap_closure`` of its gap to the
        upper-quartile touchpoint mean; other touchpoints keep their AS-IS rating.
    """
    a = {**DEFAULT_ASSUMPTIONS, **(assumptions or {})}
    order = list(stages or [])
    rows: dict[str, dict[str, Any]] = {}
    if touchpoints is not None and len(touchpoints):
        for _, r in touchpoints.iterrows():
            tp = str(r["touchpoint"])
            label = r.get("label")
            rows[tp] = {"touchpoint": tp, "stage": str(r.get("stage", "")),
                        "label": label if isinstance(label, str) and label else tag_label("touchpoints", tp, lang)}
    for f in findings:
        for tp in _tag_values(f, "touchpoints"):
            if tp not in rows:
                st = _tag_values(f, "stages")
                rows[tp] = {"touchpoint": tp, "stage": st[0] if st else "", "label": tag_label("touchpoints", tp, lang,
                                                                                                  None, f)}
    if not rows:
        return pd.DataFrame(columns=["stage", "stage_label", "touchpoint", "label", "n", "as_is", "sd", "target",
                                     "changes", "pain_points"])
    for tp, row in rows.items():
        col = tp if ratings is not None and tp in ratings.columns else f"tp_{tp}"
        if ratings is not None and col in ratings.columns:
            x = pd.to_numeric(ratings[col], errors="coerce").dropna()
            row["n"], row["as_is"] = len(x), float(x.mean()) if len(x) else float("nan")
            row["sd"] = float(x.std(ddof=1)) if len(x) > 1 else float("nan")
        else:
            row["n"], row["as_is"], row["sd"] = 0, float("nan"), float("nan")
        addressed = [r for r in recs if tp in r.tags.get("touchpoints", [])]
        row["changes"] = ", ".join(r.label(lang) for r in sorted(addressed, key=lambda r: r.rank))
        pains = [f.title for f in findings if tp in _tag_values(f, "touchpoints") and f.severity >= 3]
        row["pain_points"] = "; ".join(dict.fromkeys(pains))
        row["_addressed"] = bool(addressed)
    df = pd.DataFrame(rows.values())
    known = df["as_is"].dropna()
    bench = float(known.quantile(0.75)) if len(known) else float("nan")
    closure = a["journey_gap_closure"]
    df["target"] = [x + closure * max(bench - x, 0.0) if add and not math.isnan(x) else x
                    for x, add in zip(df["as_is"], df["_addressed"], strict=True)]
    rank = {s: i for i, s in enumerate(order)}
    df["_o"] = [rank.get(s, len(rank)) for s in df["stage"]]
    df = df.sort_values(["_o"], kind="stable").drop(columns=["_o", "_addressed"]).reset_index(drop=True)
    df.insert(1, "stage_label", [tag_label("stages", s, lang) if s else "–" for s in df["stage"]])
    return df[["stage", "stage_label", "touchpoint", "label", "n", "as_is", "sd", "target", "changes", "pain_points"]]


# --- persistence: what the report reads -------------------------------------------------------------------

TOBE_FILE = "tobe.json"


def save_tobe(run_dir: str | Path, recs: Sequence[Recommendation], tg: Targets,
              methodology: Mapping[str, Any] | None = None,
              commentary: Mapping[str, str] | None = None) -> Path:
    """Write ``<run_dir>/tobe.json``: recommendations, targets, the methodology data and the
    consultant's commentary, for :mod:`cxaudit.report` (executive summary and appendix)."""
    out = Path(run_dir) / TOBE_FILE
    payload = {"recommendations": [r.to_dict() for r in recs], "targets": tg.to_dict(),
               "methodology": dict(methodology or {}), "commentary": dict(commentary or {})}
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=float), encoding="utf-8")
    return out


def read_tobe(run_dir: str | Path) -> dict[str, Any] | None:
    """``tobe.json`` of a run with :class:`Recommendation` and :class:`Targets` objects, or None."""
    path = Path(run_dir) / TOBE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    tg = data.get("targets") or {}
    return {"recommendations": [Recommendation.from_dict(d) for d in data.get("recommendations", [])],
            "targets": Targets.from_dict(tg) if tg else None, "methodology": data.get("methodology") or {},
            "commentary": data.get("commentary") or {}}


# --- consultant commentary ---------------------------------------------------------------------------------

_MD_SECTION = re.compile(r"^#{1,3}\s+(\S+)\s*$", re.MULTILINE)


def load_commentary(client_dir: str | Path, lang: str) -> dict[str, str]:
    """Consultant commentary per section from ``commentary.yaml`` (or ``commentary.md``) in the client folder.

    YAML: ``{section_key: text}`` or ``{section_key: {en: text, ru: text}}`` (the report language is
    picked; a plain string is used for every language). Markdown: ``## section_key`` headings, each
    followed by its text. Section keys are the report's section ids without ``sec-`` (``cx_metrics``,
    ``journey``, ...) plus ``executive_summary`` and ``appendix``. Text stays plain: the report escapes it.

    Raises
    ------
    ConfigError
        For YAML that is not a mapping of section keys to text.
    """
    folder = Path(client_dir)
    # inside the client folder, no symbolic links; YAML with a size cap and no aliases
    y, md = client_side_file(folder, "commentary.yaml"), client_side_file(folder, "commentary.md")
    out: dict[str, str] = {}
    if y is not None:
        data = load_yaml(y) or {}
        if not isinstance(data, dict):
            raise ConfigError(str(y), "", "expected a mapping of section keys to text")
        for key, val in data.items():
            if isinstance(val, dict):
                unknown = sorted(set(map(str, val)) - set(LANGUAGES))
                if unknown:
                    raise ConfigError(str(y), f"{key}.{unknown[0]}", f"unknown language; expected {', '.join(LANGUAGES)}")
                val = val.get(lang)
            if val is None:
                continue
            if not isinstance(val, str | int | float):
                raise ConfigError(str(y), str(key), f"expected text, got {type(val).__name__}")
            out[str(key)] = str(val).strip()
    elif md is not None:
        text = read_text_capped(md)
        heads = list(_MD_SECTION.finditer(text))
        for i, h in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            body = text[h.end():end].strip()
            if body:
                out[h.group(1)] = body
    return {k: v for k, v in out.items() if v}


# --- helpers for the notebook ------------------------------------------------------------------------------


def labels_from_audit(audit: Any, lang: str) -> dict[str, dict[str, str]]:
    """Client-facing tag labels: touchpoint labels from the touchpoints table, theme labels from the
    codeframe (the client's ``codeframe.yaml`` first, then cxaudit's default one), in ``lang``."""
    out: dict[str, dict[str, str]] = {"touchpoints": {}, "themes": {}}
    for tp, spec in (getattr(audit.config, "touchpoints", None) or {}).items():  # touchpoints in audit.yaml
        if spec.label:
            out["touchpoints"][str(tp)] = spec.label
    if audit.has("touchpoints"):
        tps = audit.tables["touchpoints"]
        if "label" in tps.columns:
            for tp, lab in zip(tps["touchpoint"].astype(str), tps["label"], strict=True):
                if isinstance(lab, str) and lab.strip():
                    out["touchpoints"][tp] = lab.strip()
    client_frame = client_side_file(audit.dir, "codeframe.yaml")  # refuses a symbolic link
    frames = [client_frame] if client_frame is not None else []
    with resources.as_file(resources.files("cxaudit").joinpath("resources").joinpath("codeframe.yaml")) as p:
        frames.append(Path(p))
        for path in frames:
            if not path.is_file():
                continue
            try:
                data = load_yaml(path) or {}
            except ConfigError:
                continue  # the VoC section reports a broken codeframe; labels fall back to the catalog
            themes = data.get("themes") if isinstance(data, dict) else None
            for key, spec in (themes or {}).items():
                label = spec.get("label") if isinstance(spec, dict) else None
                text = label.get(lang) if isinstance(label, dict) else label if isinstance(label, str) else None
                if isinstance(text, str) and str(key) not in out["themes"]:
                    out["themes"][str(key)] = text
    # then the industry packs (telecom, banking, travel, …): a run coded with one of them names its themes
    from .text import INDUSTRIES, industry_codeframe

    for industry in INDUSTRIES:
        for theme in industry_codeframe(industry).themes:
            if theme.key not in out["themes"] and theme.label.get(lang):
                out["themes"][theme.key] = theme.label[lang]
    return out
