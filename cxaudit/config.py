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
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

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
    "Outcome",
    "Fieldwork",
    "Band",
    "ChurnSettings",
    "check_date_format",
    "load_config",
    "side_files",
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
TABLES: tuple[str, ...] = ("responses", "touchpoints", "customers", "tickets", "employees", "kpis", "events")
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
    "future_date",
    "duplicate_respondent",
    "unfinished",
    "short_answer",
    "gibberish",
    "oversized_value",
)
#: Input formats a reader exists for (``auto`` detects from the file's content and suffix).
INPUT_FORMATS: tuple[str, ...] = ("auto", "csv", "xlsx", "parquet", "qualtrics", "surveymonkey", "sav", "xes")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    """A person the client can ask about the report (cover page)."""

    name: str = Field(..., min_length=1)
    role: str | None = None
    email: str | None = None
    phone: str | None = None


class Branding(_Strict):
    primary_color: str = "#1f3b5c"
    accent_color: str = "#d9822b"
    logo: str | None = Field(None, description="image file inside the client folder")
    consultancy: str | None = Field(None, description="name of the consultancy that prepared the report (cover)")
    consultancy_logo: str | None = Field(None, description="the consultancy's logo, an image file inside the client folder")
    contacts: list[Contact] = Field(default_factory=list, description="people to contact about the report (cover)")
    confidentiality: str | None = Field(None, description="confidentiality note on the cover (default: the catalog's)")
    version: str = Field("1.0", min_length=1, description="version of the report shown on the cover")
    pptx_template: str | None = Field(None, description=".pptx file inside the client folder whose master the deck uses")

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
    na_codes: list[str] = Field(
        default_factory=list,
        description="answers that mean 'not applicable / no answer' (0, 99, 'N/A', ...): the cell becomes missing",
    )

    @field_validator("na_codes", mode="before")
    @classmethod
    def _codes_as_text(cls, v: Any) -> Any:
        """``na_codes: [0, 99, N/A]``: numbers and words are matched as the text of a cell."""
        if isinstance(v, str | int | float):
            v = [v]
        return [_yaml_text(x) for x in v] if isinstance(v, list) else v

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
    table: str | None = Field(
        None, description="a table in the engine (engine:) read instead of a file, e.g. analytics.customers")
    format: Literal["auto", "csv", "xlsx", "parquet", "qualtrics", "surveymonkey", "sav", "xes"] = "auto"
    sheet: str | int | None = None
    header_row: StrictInt | Literal["auto"] = Field(
        1, description="1-based row that holds the column names, or 'auto' to find it (Excel title rows)"
    )
    delimiter: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="canonical name -> column in the file")
    date_format: str | None = None
    decimal: Literal[".", ","] | None = Field(None, description="decimal mark; None = detect from the file")

    @model_validator(mode="before")
    @classmethod
    def _table_instead_of_file(cls, v: Any) -> Any:
        """``{table: name}`` names a table in the engine: no file then (``file`` stays required otherwise)."""
        if isinstance(v, dict) and v.get("table") is not None:
            if v.get("file"):
                raise ValueError("give either file or table (a table in the engine), not both")
            return {**v, "file": ""}
        return v

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str | None) -> str | None:
        return check_date_format(v)

    @field_validator("encoding")
    @classmethod
    def _text_encoding(cls, v: str | None) -> str | None:
        """A codec that decodes bytes to text (``rot13`` and ``base64`` are codecs, but not text encodings)."""
        import codecs

        if v is None:
            return v
        try:
            info = codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown text encoding {v!r} (e.g. utf-8, cp1251, cp1250, latin-1)") from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError(f"{v!r} is not a text encoding (e.g. utf-8, cp1251, cp1250, latin-1)")
        return v

    @field_validator("header_row")
    @classmethod
    def _positive_row(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError(f"expected a row number of 1 or more, or 'auto', got {v}")
        return v


class QualityRules(_Strict):
    exclude: list[str] = Field(
        default_factory=lambda: ["missing_required", "invalid_date", "duplicate_id", "speeder", "future_date"],
        description="rules whose rows are excluded; 'out_of_range' here excludes the whole response "
                    "(by default only the off-scale cell becomes missing, and is logged)",
    )
    max_excluded_share: float = Field(
        0.5, ge=0, le=1, description="a table with a larger share of its rows excluded stops the run (exit 3)")
    speeder_fraction: float = Field(1 / 3, gt=0, lt=1)
    straightliner_min_items: StrictInt = Field(5, ge=2)
    straightliner_max_sd: float = Field(
        0.0, ge=0, description="a rating grid whose standard deviation is at most this is a straight line"
    )
    min_answer_chars: StrictInt = Field(3, ge=1, description="open answers with fewer letters/digits are too short")
    max_answer_chars: StrictInt = Field(10_000, ge=100, description="longer cell values are flagged as oversized")
    as_of: _dt.date | None = Field(None, description="dates after this are in the future (default: today); "
                                   "rows with one are excluded by default (rule future_date)")

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
    costs: dict[Literal["low", "medium", "high"], float] = Field(
        default_factory=dict,
        description="cost of one recommendation per effort level, in the client's currency "
                    "(cxaudit.business_case; a recommendation's own cost: recommendations.overrides.<rule>.cost)",
    )
    plan_start: _dt.date | None = Field(None, description="start of the TO-BE plan (default: the report date)")

    @field_validator("costs")
    @classmethod
    def _costs(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, c in v.items() if not c >= 0]
        if bad:
            raise ValueError(f"expected a cost of 0 or more for {', '.join(bad)}")
        return v


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
    cost: float | None = Field(None, ge=0, description="the change's cost in the client's currency")


class Recommendations(_Strict):
    """TO-BE settings: extra rules, overrides by rule id, assumptions (cxaudit.recommend.DEFAULT_ASSUMPTIONS)."""

    rules_file: str | None = Field(None, description="rules file in the client folder (default: rules.yaml if present)")
    rules: list[dict[str, Any]] = Field(default_factory=list, description="extra rules, same format as rules.yaml")
    overrides: dict[str, RecommendationOverride] = Field(default_factory=dict, description="rule id -> changes")
    assumptions: dict[str, float] = Field(default_factory=dict, description="assumption name -> value")


#: ``date_format`` words for numeric date cells (cxaudit.schema.parse_dates).
DATE_FORMAT_WORDS: tuple[str, ...] = ("unix_s", "unix_ms", "excel")


def check_date_format(v: str | None) -> str | None:
    """A ``date_format`` as :func:`cxaudit.schema.parse_dates` takes it, or a ``ValueError`` in one line.

    Accepted: a ``strftime`` pattern with at least a day, month or year directive (``%d.%m.%Y``),
    ``unix_s`` (also ``%s`` / ``unix``: seconds since 1970-01-01 UTC), ``unix_ms`` or ``excel`` (serial
    day numbers of the 1900 date system).

    Examples
    --------
    >>> check_date_format("%s"), check_date_format("%d.%m.%Y")
    ('unix_s', '%d.%m.%Y')
    >>> check_date_format("DD.MM.YYYY")
    Traceback (most recent call last):
    ...
    ValueError: 'DD.MM.YYYY' is not a date format: write it with % codes (DD.MM.YYYY is %d.%m.%Y), or use unix_s, unix_ms or excel
    """
    if v is None:
        return None
    word = v.strip().lower()
    if word in ("%s", "unix", "unix_s", "epoch"):
        return "unix_s"
    if word in ("unix_ms", "%ms", "epoch_ms"):
        return "unix_ms"
    if word in ("excel", "excel_serial"):
        return "excel"
    hint = "write it with % codes (DD.MM.YYYY is %d.%m.%Y), or use unix_s, unix_ms or excel"
    import re

    codes = set(re.findall(r"%[-#]?([A-Za-z])", v))
    if not codes & set("dmYyjbBUWGVFx"):
        raise ValueError(f"{v!r} is not a date format: {hint}")
    sample = _dt.datetime(2024, 3, 17, 13, 5, 9)
    try:
        text = sample.strftime(v)
        _dt.datetime.strptime(text, v)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{v!r} is not a usable date format ({exc}): {hint}") from None
    return v


class Fieldwork(_Strict):
    """When a one-off survey was in the field: its responses need no date column."""

    start: _dt.date
    end: _dt.date

    @model_validator(mode="after")
    def _order(self) -> Fieldwork:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Outcome(_Strict):
    """The survey outcome that drivers, pain points, theme comparisons, rules and targets explain.

    ``kind`` ``auto``: ``nps`` for the ``nps`` column, ``binary`` when ``positive`` is given, else a rated
    column on ``scale`` (its top box counts as the good outcome).
    """

    column: str
    kind: Literal["auto", "nps", "scale", "binary"] = "auto"
    scale: Literal["nps", "csat", "ces", "touchpoint"] | None = Field(
        None, description="the scale of a rated outcome (default: csat for 'csat', ces for 'ces', else touchpoint)")
    positive: list[str] = Field(default_factory=list, description="binary outcome: the values that count as good")
    label: str | None = Field(None, description="the outcome's name in the report (default: from the catalog)")

    @field_validator("positive", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, str | int | float | bool):
            v = [v]
        return [_yaml_text(x) for x in v] if isinstance(v, list) else v

    @property
    def resolved_kind(self) -> str:
        if self.kind != "auto":
            return self.kind
        if self.column == "nps":
            return "nps"
        return "binary" if self.positive else "scale"

    @property
    def resolved_scale(self) -> str:
        if self.scale:
            return self.scale
        return self.column if self.column in ("nps", "csat", "ces") else "touchpoint"


class Band(_Strict):
    """``bands.<name>``: a number cut into ordered bands, e.g. tenure months -> 0-12, 12-24, ..."""

    source: str = Field(..., description="the numeric column that is banded")
    edges: list[float] = Field(..., min_length=2, description="band limits, increasing; a band is [lower, upper)")
    labels: list[str] | None = Field(None, description="one name per band (default: 'lower-upper')")

    @model_validator(mode="after")
    def _check(self) -> Band:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"edges must increase, got {self.edges}")
        if self.labels is not None and len(self.labels) != len(self.edges) - 1:
            raise ValueError(f"expected {len(self.edges) - 1} labels for {len(self.edges)} edges, got {len(self.labels)}")
        return self


def band_labels(band: Band) -> list[str]:
    """A band's labels: the configured ones, else ``lower–upper`` from its edges (``0–12``)."""
    if band.labels:
        return list(band.labels)

    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"
    return [f"{num(a)}–{num(b)}" for a, b in zip(band.edges, band.edges[1:], strict=False)]


class ChurnSettings(_Strict):
    """The churn section's time basis and model (cxaudit.churn.time_basis, cxaudit.churn.model_spec)."""

    start: _dt.date | None = Field(None, description="the first day the customer list covers (start of observation)")
    as_of: _dt.date | None = Field(None, description="the date the customer list was extracted (end of observation)")
    observation_months: float | None = Field(
        None, gt=0, description="months the churn flag covers (customers who left within this many months of as_of)")
    covariates: list[str] | None = Field(None, description="numeric customer columns in the churn models")
    segments: list[str] | None = Field(None, description="categorical customer columns in the churn models "
                                                         "(default: the segments that are customer columns)")


class Personas(_Strict):
    """Personas from a latent class model (cxaudit.personas): what goes in and how many classes."""

    items: dict[str, str] = Field(
        default_factory=dict, description="attitude / behaviour response columns -> their wording in the report")
    use: list[Literal["items", "segments", "channels", "value", "tenure", "ratings", "themes"]] | None = Field(
        None, description="indicator groups of the model (default: what the data has of items, segments, channels, "
                          "value and tenure; ratings and themes only when named)")
    segments: list[str] | None = Field(None, description="segment columns used as indicators (default: segments)")
    k_min: StrictInt = Field(2, ge=1)
    k_max: StrictInt = Field(6, ge=2, le=10)
    min_share: float = Field(0.05, gt=0, lt=0.5, description="smallest class a solution may have (share)")
    names: dict[str, str] = Field(default_factory=dict, description="persona number ('1', '2', ...) -> its name")


#: The built-in codeframe packs (cxaudit.text.INDUSTRIES; retail is cxaudit/resources/codeframe.yaml).
CODEFRAME_INDUSTRIES: tuple[str, ...] = ("retail", "telecom", "banking", "travel", "saas", "public")


class TextSettings(_Strict):
    """Open text: which built-in codeframe pack codes the comments (a codeframe.yaml in the client folder wins),
    and the coverage under which the report warns."""

    industry: Literal["retail", "telecom", "banking", "travel", "saas", "public"] | None = Field(
        None, description="codeframe pack (default: the pack client.industry names, else the one that codes the "
                          "most comments)")
    coverage_warning: float = Field(0.30, ge=0, le=1, description="warn when a language has a smaller share of "
                                                                  "comments coded with a theme")


class ClosedLoop(_Strict):
    """The callback list for the client's team (``closed_loop.xlsx``, cxaudit.closed_loop): who is called back,
    and which input columns of the responses may carry the customer's contact data into it (none by default;
    contact data never appear in a report)."""

    contact_columns: list[str] = Field(
        default_factory=list, description="response columns the consultant allows in the callback list (e.g. email)")
    max_nps: StrictInt = Field(6, ge=0, le=10, description="answers at or below this NPS are called back")
    urgent_nps: StrictInt = Field(3, ge=0, le=10, description="answers at or below this NPS are urgent")


class EngineSettings(_Strict):
    """Where the heavy aggregations run (:mod:`cxaudit.engine`): ``engine: duckdb`` (in-process, the
    default), ``engine: {backend: pyspark, options: {master: "local[2]"}}``, or any backend Ibis reaches
    by URL, ``engine: {url: "postgres://user@host/db"}`` (``engine: "trino://..."`` for short)."""

    backend: Literal["duckdb", "pyspark"] = Field("duckdb", description="duckdb (embedded) or pyspark (Apache Spark)")
    url: str | None = Field(None, description="a connection URL Ibis understands, instead of a backend")
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="backend settings, e.g. {memory_limit: 4GB, threads: 2} or Spark conf keys")
    min_rows: StrictInt = Field(
        2_000_000, ge=0, description="a customers Parquet file with at least this many rows stays in the engine "
        "(a folder of Parquet files or inputs.customers.table always does): validated and analysed there")

    @model_validator(mode="before")
    @classmethod
    def _short(cls, v: Any) -> Any:
        if isinstance(v, str):
            return {"url": v} if "://" in v else {"backend": v}
        return v

    @model_validator(mode="after")
    def _one_engine(self) -> EngineSettings:
        if self.url is not None:
            if "backend" in self.model_fields_set:
                raise ValueError("give either backend or url, not both")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*://\S*", self.url):
                raise ValueError(f"url {self.url!r} is not a connection URL; expected e.g. postgres://user@host/db")
        return self


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
    personas: Personas = Personas()
    outcome: Outcome | None = Field(None, description="the survey outcome (default: NPS when answered, else CSAT)")
    fieldwork: Fieldwork | None = Field(None, description="a one-off survey's field period (responses need no date)")
    bands: dict[str, Band] = Field(default_factory=dict, description="new column -> number cut into ordered bands")
    categories: dict[str, list[str]] = Field(
        default_factory=dict, description="column -> its values in the order the report and models use")
    reference: dict[str, str] = Field(default_factory=dict, description="column -> reference level in the models")
    churn: ChurnSettings = ChurnSettings()
    text: TextSettings = TextSettings()
    closed_loop: ClosedLoop = ClosedLoop()
    engine: EngineSettings | None = Field(None, description="the query engine for large tables (cxaudit.engine)")
    seed: StrictInt = 20261124

    def level_order(self, column: str) -> list[str] | None:
        """The declared order of a column's values: ``categories.<column>``, else the labels of the band
        ``bands.<column>`` in band order; None when nothing is declared."""
        if column in self.categories:
            return list(self.categories[column])
        if column in self.bands:
            return band_labels(self.bands[column])
        return None

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome_short(cls, v: Any) -> Any:
        """``outcome: csat`` is ``outcome: {column: csat}``."""
        return {"column": v} if isinstance(v, str) else v

    @field_validator("categories", "reference", mode="before")
    @classmethod
    def _levels_as_text(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {str(k): ([_yaml_text(x) for x in m] if isinstance(m, list) else _yaml_text(m)) for k, m in v.items()}

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
        if not v:
            raise ValueError("no input table: give at least one of " + ", ".join(TABLES))
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


def _explain(err: Mapping[str, Any]) -> str:
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


def load_config(path: str | Path, *, inputs_dir: str | Path | None = None, check_files: bool = True) -> AuditConfig:
    """Read and validate an ``audit.yaml``; check that every input file exists beside it.

    ``inputs_dir``: where the input files are, when not beside it (a wave's folder). ``check_files=False``
    checks no file (a run's saved copy of the config, whose inputs were checked when the run started).

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
    from .safeyaml import load_yaml  # size cap, no aliases, no duplicate keys

    raw = load_yaml(path, file=shown)
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
    if not check_files:
        return cfg
    source = Path(inputs_dir) if inputs_dir is not None else path.parent
    from .paths import client_file  # inside the client folder, no symbolic links

    for table, spec in cfg.inputs.items():
        if spec.table is not None:  # read from the engine, not from a file
            if cfg.engine is None:
                raise ConfigError(shown, f"inputs.{table}.table", "a table in an engine needs the key engine: "
                                  "(e.g. engine: {url: 'postgres://user@host/db'})")
            continue
        found = client_file(source, spec.file, file=shown, key=f"inputs.{table}.file")
        if cfg.engine is not None and table == "customers" and found.is_dir():
            continue  # a folder of Parquet files (a dataset), kept in the engine (cxaudit.engine_audit)
        if not found.is_file():
            raise ConfigError(shown, f"inputs.{table}.file", f"file {spec.file!r} not found in {source}")
    logo = cfg.client.branding.logo
    if logo and not client_file(path.parent, logo, file=shown, key="client.branding.logo").is_file():
        raise ConfigError(shown, "client.branding.logo", f"file {logo!r} not found in {path.parent}")
    rules_file = cfg.recommendations.rules_file
    if rules_file and not client_file(path.parent, rules_file, file=shown, key="recommendations.rules_file").is_file():
        raise ConfigError(shown, "recommendations.rules_file", f"file {rules_file!r} not found in {path.parent}")
    deck = cfg.client.branding.pptx_template
    if deck and not client_file(path.parent, deck, file=shown, key="client.branding.pptx_template").is_file():
        raise ConfigError(shown, "client.branding.pptx_template", f"file {deck!r} not found in {path.parent}")
    return cfg


def side_files(folder: str | Path, cfg: AuditConfig) -> dict[str, Path]:
    """Every client file besides the inputs that shapes a run, if present: the rules file
    (``recommendations.rules_file`` or ``rules.yaml``), ``codeframe.yaml``, ``commentary.yaml`` /
    ``commentary.md``, the logo and the slide template. Keys are the names as given; each path is
    checked to stay inside the client folder without symbolic links (:func:`cxaudit.paths.client_file`).
    ``Audit.input_hashes`` hashes them into the manifest and the run id; ``cxaudit validate`` parses them.
    """
    from .paths import client_file, client_side_file

    folder = Path(folder)
    shown = str(folder / "audit.yaml")
    out: dict[str, Path] = {}
    rules = cfg.recommendations.rules_file
    if rules:
        out[rules] = client_file(folder, rules, file=shown, key="recommendations.rules_file")
    for name in (() if rules else ("rules.yaml",)) + ("codeframe.yaml", "commentary.yaml", "commentary.md"):
        path = client_side_file(folder, name)
        if path is not None:
            out[name] = path
    branding = cfg.client.branding
    branded: tuple[tuple[str, str | None], ...] = (
        ("client.branding.logo", branding.logo),
        ("client.branding.pptx_template", getattr(branding, "pptx_template", None)))
    for key, brand_file in branded:
        if brand_file:
            out[brand_file] = client_file(folder, brand_file, file=shown, key=key)
    return {k: p for k, p in out.items() if p.is_file()}
