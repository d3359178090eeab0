"""``audit.yaml`` -> a typed :class:`AuditConfig`.

One file per client folder describes the client, the report language, the input files and how
their columns map onto the canonical tables (see :mod:`cxaudit.schema`). Problems are reported as a
:class:`~cxaudit.errors.ConfigError` naming the file and the key, e.g.::

    data/acme/audit.yaml: key 'inputs.responses.colums': unknown key (allowed: file, sheet, columns, ...)
    data/acme/audit.yaml: key 'min_base': expected an integer, got 'thirty'
    data/acme/audit.yaml: key 'inputs.tickets.file': file 'tickets.csv' not found in data/acme

Examples
--------
>>> cfg = AuditConfig.model_validate({"client": {"name": "Acme"}, "inputs": {"responses": {"file": "r.csv"}}})
>>> cfg.language, cfg.min_base, cfg.scales.nps.max
('en', 30, 10)
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

__all__ = [
    "STAGES",
    "LANGUAGES",
    "AuditConfig",
    "ClientInfo",
    "Branding",
    "InputSpec",
    "Scale",
    "Scales",
    "QualityRules",
    "Weighting",
    "TicketRules",
    "load_config",
]

#: The nine journey stages, in order.
STAGES: tuple[str, ...] = (
    "awareness",
    "consideration",
    "interest",
    "intent",
    "purchase",
    "post-purchase",
    "retention",
    "advocacy",
    "loyalty",
)
LANGUAGES: tuple[str, ...] = ("en", "ru", "pl")
TABLES: tuple[str, ...] = ("responses", "touchpoints", "customers", "tickets", "employees", "kpis")
EXCLUSION_RULES: tuple[str, ...] = (
    "missing_required",
    "invalid_value",
    "out_of_range",
    "invalid_date",
    "duplicate_id",
    "speeder",
    "straightliner",
    # added with the survey-export readers and the data-quality checks (cxaudit.quality)
    "malformed_row",
    "truncated_row",
    "repeated_header",
    "mixed_date_format",
    "inconsistent_date",
    "duplicate_respondent",
    "unfinished",
    "short_answer",
    "gibberish",
    "oversized_value",
)
#: Input formats a reader exists for (``auto`` detects from the file's content and suffix).
INPUT_FORMATS: tuple[str, ...] = ("auto", "csv", "xlsx", "parquet", "qualtrics", "surveymonkey", "sav")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Branding(_Strict):
    primary_color: str = "#1f3b5c"
    accent_color: str = "#d9822b"
    logo: str | None = Field(None, description="image file inside the client folder")

    @field_validator("primary_color", "accent_color")
    @classmethod
    def _hex(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"#[0-9a-fA-F]{6}", v):
            raise ValueError(f"expected a colour like '#1f3b5c', got {v!r}")
        return v


class ClientInfo(_Strict):
    name: str = Field(..., min_length=1)
    language: Literal["en", "ru", "pl"] = "en"
    industry: str | None = None
    currency: str | None = Field(None, description="ISO code of the revenue column, e.g. EUR")
    branding: Branding = Branding()


class Scale(_Strict):
    min: StrictInt
    max: StrictInt
    top_box: StrictInt = Field(2, ge=1, description="how many top categories count as satisfied")
    labels: dict[str, float] = Field(
        default_factory=dict,
        description="answer label -> scale point, e.g. {'Top notch': 5}; checked before the built-in maps",
    )
    builtin_labels: bool = Field(True, description="recode common en/ru/pl scale labels (cxaudit.io.labels)")

    @model_validator(mode="after")
    def _order(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        return self


class Scales(_Strict):
    nps: Scale = Scale(min=0, max=10)
    csat: Scale = Scale(min=1, max=5, top_box=2)
    ces: Scale = Scale(min=1, max=7)
    touchpoint: Scale = Scale(min=1, max=5, top_box=2)

    @field_validator("nps")
    @classmethod
    def _nps_fixed(cls, v: Scale) -> Scale:
        if (v.min, v.max) != (0, 10):
            raise ValueError("NPS is defined on 0-10 only")
        return v


class InputSpec(_Strict):
    file: str
    format: Literal["auto", "csv", "xlsx", "parquet", "qualtrics", "surveymonkey", "sav"] = "auto"
    sheet: str | int | None = None
    header_row: StrictInt | Literal["auto"] = Field(
        1, description="1-based row that holds the column names, or 'auto' to find it (Excel title rows)"
    )
    delimiter: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="canonical name -> column in the file")
    date_format: str | None = None
    decimal: Literal[".", ","] | None = Field(None, description="decimal mark; None = detect from the file")

    @field_validator("header_row")
    @classmethod
    def _positive_row(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError(f"expected a row number of 1 or more, or 'auto', got {v}")
        return v


class QualityRules(_Strict):
    exclude: list[str] = Field(
        default_factory=lambda: ["missing_required", "invalid_date", "out_of_range", "duplicate_id", "speeder"]
    )
    speeder_fraction: float = Field(1 / 3, gt=0, lt=1)
    straightliner_min_items: StrictInt = Field(5, ge=2)
    straightliner_max_sd: float = Field(
        0.0, ge=0, description="a rating grid whose standard deviation is at most this is a straight line"
    )
    min_answer_chars: StrictInt = Field(3, ge=1, description="open answers with fewer letters/digits are too short")
    max_answer_chars: StrictInt = Field(10_000, ge=100, description="longer cell values are flagged as oversized")
    as_of: _dt.date | None = Field(None, description="dates after this are in the future (default: today)")

    @field_validator("exclude")
    @classmethod
    def _known_rules(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(EXCLUSION_RULES))
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known rules: {', '.join(EXCLUSION_RULES)}")
        return v


class TouchpointSpec(_Strict):
    stage: str
    channel: str
    owner_department: str | None = None
    label: str | None = None


class Economics(_Strict):
    """Assumptions behind the churn section's money figures (cxaudit.economics.Assumptions)."""

    margin: float = Field(0.30, gt=0, le=1, description="gross margin as a share of revenue (assumption)")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="annual discount rate for lifetime value")
    revenue_period_months: float = Field(12, gt=0, description="months of revenue in the customers' revenue column")
    acquisition_multiple: float = Field(5, ge=1, description="acquisition cost / retention cost (commonly quoted 5-25)")
    acquisition_cost: float | None = Field(None, gt=0, description="cost of acquiring one customer; null = one period's margin")
    move_shares: list[float] = Field(
        default_factory=lambda: [0.10, 0.25, 0.50], description="shares of detractors moved in the what-if table"
    )


class Weighting(_Strict):
    """Raking weights for the survey metrics (cxaudit.weighting): population shares per response column."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    targets: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="response column -> {category: population share}; shares of a column sum to 1"
    )
    trim: float | None = Field(None, gt=1, description="cap on a weight, as a multiple of the mean weight (e.g. 5)")

    @field_validator("targets")
    @classmethod
    def _shares(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for col, shares in v.items():
            if not shares:
                raise ValueError(f"targets for {col!r} are empty")
            if any(s < 0 for s in shares.values()):
                raise ValueError(f"targets for {col!r}: shares must be >= 0")
            total = sum(shares.values())
            if abs(total - 1) > 1e-6:
                raise ValueError(f"targets for {col!r} sum to {total:g}; expected 1")
        return v


class TicketRules(_Strict):
    """Support-ticket assumptions (see cxaudit.tickets): expected first-response times per channel."""

    sla_hours: dict[str, float] = Field(
        default_factory=dict,
        description="channel -> expected first response in hours; overrides cxaudit.tickets.DEFAULT_SLA_HOURS",
    )
    sla_target: float | None = Field(None, gt=0, le=1, description="share of tickets to answer in time (default 0.8)")
    repeat_days: StrictInt | None = Field(None, ge=1, description="repeat-contact window in days (default 7)")

    @field_validator("sla_hours")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, h in v.items() if not h > 0]
        if bad:
            raise ValueError(f"expected a positive number of hours for {', '.join(bad)}")
        return v


class RecommendationOverride(_Strict):
    """A consultant's change to one TO-BE rule (cxaudit.recommend): switch it off or fix its numbers."""

    enabled: bool | None = None
    priority: float | None = Field(None, description="replaces the computed priority score")
    weight: float | None = Field(None, gt=0, description="multiplies the computed priority score")
    effort: Literal["low", "medium", "high"] | None = None
    horizon: Literal["0-3", "3-6", "6-12"] | None = None
    impact_nps: float | None = Field(None, ge=0, le=100, description="replaces the estimated NPS impact")


class Recommendations(_Strict):
    """TO-BE settings: extra rules, overrides by rule id, assumptions (cxaudit.recommend.DEFAULT_ASSUMPTIONS)."""

    rules_file: str | None = Field(None, description="rules file in the client folder (default: rules.yaml if present)")
    rules: list[dict[str, Any]] = Field(default_factory=list, description="extra rules, same format as rules.yaml")
    overrides: dict[str, RecommendationOverride] = Field(default_factory=dict, description="rule id -> changes")
    assumptions: dict[str, float] = Field(default_factory=dict, description="assumption name -> value")


class AuditConfig(_Strict):
    client: ClientInfo
    min_base: StrictInt = Field(30, ge=1, description="bases below this are shown but flagged")
    anonymity_min: StrictInt = Field(5, ge=2, description="employee groups smaller than this are never shown separately")
    segments: list[str] = Field(default_factory=list, description="response columns to cut metrics by")
    segment_labels: dict[str, str] = Field(default_factory=dict, description="column -> name shown in the report")
    value_labels: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="column -> {value in the data -> name shown in the report}, e.g. {channel: {app: 'Our app'}}; "
                    "wins over the built-in names of channels, languages and journey stages (cxaudit.i18n.value_label)",
    )
    stages: list[str] = Field(default_factory=lambda: list(STAGES))
    touchpoints: dict[str, TouchpointSpec] = Field(
        default_factory=dict,
        description="touchpoint id -> stage, channel, owner_department, label (instead of a touchpoints file)",
    )
    scales: Scales = Scales()
    quality: QualityRules = QualityRules()
    weighting: Weighting = Weighting()
    economics: Economics = Economics()
    inputs: dict[str, InputSpec]
    tickets: TicketRules = TicketRules()
    recommendations: Recommendations = Recommendations()
    seed: StrictInt = 20261124

    @model_validator(mode="after")
    def _touchpoint_stages(self) -> AuditConfig:
        for tp, tspec in self.touchpoints.items():
            if tspec.stage.strip().lower() not in self.stages:
                raise ValueError(f"touchpoint {tp!r}: stage {tspec.stage!r} is not one of {', '.join(self.stages)}")
        return self

    @property
    def language(self) -> str:
        return self.client.language

    @field_validator("value_labels", mode="before")
    @classmethod
    def _value_labels_as_text(cls, v: Any) -> Any:
        """YAML reads ``1: North`` or ``yes: ...`` as a number / boolean key: values are text in the data."""
        if not isinstance(v, dict):
            return v
        return {str(col): ({_yaml_text(k): _yaml_text(x) for k, x in m.items()} if isinstance(m, dict) else m)
                for col, m in v.items()}

    def value_label(self, column: str, value: Any, lang: str, *, inline: bool = False) -> str:
        """A value of ``column`` as the report shows it: the client's ``value_labels`` first, then the
        catalog's name of a channel / language code (:func:`cxaudit.i18n.value_label`), else the value."""
        from .i18n import value_label

        return value_label(column, value, lang, labels=self.value_labels.get(column), inline=inline)

    @field_validator("inputs")
    @classmethod
    def _known_tables(cls, v: dict[str, InputSpec]) -> dict[str, InputSpec]:
        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; known tables: {', '.join(TABLES)}")
        if "responses" not in v:
            raise ValueError("the 'responses' table is required")
        return v


def _yaml_text(x: Any) -> Any:
    """A YAML scalar as the text it stands for in the data (``true`` -> "true", ``1`` -> "1")."""
    if isinstance(x, bool):
        return str(x).lower()
    return str(x) if isinstance(x, int | float) else x


# --- loading -------------------------------------------------------------------------------------

_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Walk the model along ``loc`` (minus its last part) and list the keys allowed there."""
    from typing import get_args, get_origin

    current: Any = model
    for part in loc[:-1]:
        if hasattr(current, "model_fields"):
            if part not in current.model_fields:
                return []
            current = current.model_fields[part].annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]  # dict key given -> its value type
        # Optional[...] / unions: keep the model member
        args = [a for a in get_args(current) if hasattr(a, "model_fields")]
        if args and not hasattr(current, "model_fields") and get_origin(current) is not dict:
            current = args[0]
    return list(getattr(current, "model_fields", {}) or [])


def _explain(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {err.get('input')!r}"
    if kind == "literal_error":
        return f"expected one of {err['ctx']['expected']}, got {err.get('input')!r}"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path) -> AuditConfig:
    """Read and validate an ``audit.yaml``; check that every input file exists beside it.

    Raises
    ------
    ConfigError
        naming the file and the dotted key, for YAML syntax errors, unknown keys, wrong types,
        missing required keys and missing input files.
    """
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise ConfigError(shown, "", "file not found (create it with `cxaudit new CLIENT`)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(shown, "", f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(shown, "", "not UTF-8 text") from None
    if not isinstance(raw, dict):
        raise ConfigError(shown, "", "expected a mapping of keys at the top level")
    try:
        cfg = AuditConfig.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        # an unknown key explains a "missing" one (a typo), so report it first
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = ".".join(str(p) for p in err["loc"])
        problem = _explain(err)
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(AuditConfig, err["loc"])
            if allowed:
                problem += f" (allowed: {', '.join(allowed)})"
        more = len(errors) - 1
        if more:
            problem += f" (+{more} more problem{'s' if more > 1 else ''})"
        raise ConfigError(shown, key, problem) from None
    for table, spec in cfg.inputs.items():
        if not (path.parent / spec.file).is_file():
            raise ConfigError(shown, f"inputs.{table}.file", f"file {spec.file!r} not found in {path.parent}")
    logo = cfg.client.branding.logo
    if logo and not (path.parent / logo).is_file():
        raise ConfigError(shown, "client.branding.logo", f"file {logo!r} not found in {path.parent}")
    return cfg
