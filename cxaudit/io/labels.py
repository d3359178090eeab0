"""Answer labels -> scale points: "10 - Extremely likely", "Very satisfied", "Полностью согласен",
"Zdecydowanie się zgadzam" become numbers.

Exports often carry the choice text instead of the number (Qualtrics "choice text", SurveyMonkey
"actual answer text", SPSS value labels). :func:`recode` resolves each label, in this order:

1. ``scales.<name>.labels`` in ``audit.yaml`` (the client's own wording), exact after
   normalisation (case, ``ё``/``е``, punctuation, gender endings such as ``(а)`` or ``/a``);
2. a number at the start, ``"10 - Extremely likely"``, ``"0 = Not at all likely"``, ``"5 (Very
   satisfied)"``, or in brackets at the end, ``"Extremely likely (10)"``;
3. the built-in maps below for a scale with that many points (5, 7 or 11), in English, Russian and
   Polish -- a label's position counted from the bottom of the scale is added to the scale's
   minimum, so the same map serves a 1-5 and a 0-4 scale;
4. the code the file itself gives the label (SPSS value labels), when the reader knows it;
5. a non-answer ("Don't know", "Затрудняюсь ответить", "Nie wiem", "N/A", ...) becomes missing --
   a declared non-answer, not an invalid value.

Anything else stays unresolved and :mod:`cxaudit.schema` logs it as ``invalid_value``.

On a 5-point agreement scale the Polish "Trudno powiedzieć" is the midpoint (the usual Polish
Likert wording: zdecydowanie nie / raczej nie / trudno powiedzieć / raczej tak / zdecydowanie tak);
on other scales it is a non-answer. The Russian "Затрудняюсь ответить" is always a non-answer.

Sources for the wordings: Qualtrics' and SurveyMonkey's built-in scale templates (satisfaction,
agreement, likelihood, ease, quality); Vagias, W. M. (2006), *Likert-type scale response anchors*,
Clemson University; the CES 2.0 item of Dixon, Toman & DeLisi (2013) on 1-7 agreement.

Examples
--------
>>> import pandas as pd
>>> values, by_label, non_answer = recode(pd.Series(["10 - Extremely likely", "Very satisfied", "Полностью согласен",
...                                                  "Zdecydowanie się zgadzam", "Nie wiem", "meh"]), 1, 5)
>>> values.tolist()[1:4], bool(non_answer.iloc[4]), pd.isna(values.iloc[5])
([5.0, 5.0, 5.0], True, True)
>>> recode(pd.Series(["0 - Not at all likely", "Extremely likely"]), 0, 10)[0].tolist()
[0.0, 10.0]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

import numpy as np
import pandas as pd

__all__ = ["normalise", "builtin_map", "recode", "NON_ANSWERS", "BUILTIN"]

# --- the built-in maps: label -> position from the bottom (0-based) -----------------------------

_5 = {
    # satisfaction (SurveyMonkey / Qualtrics 5-point)
    0: ["very dissatisfied", "extremely dissatisfied", "completely dissatisfied",
        "совсем не удовлетворен", "полностью не удовлетворен", "очень недоволен", "крайне недоволен",
        "совершенно не удовлетворен",
        "bardzo niezadowolony", "zdecydowanie niezadowolony", "całkowicie niezadowolony",
        # agreement
        "strongly disagree", "completely disagree",
        "полностью не согласен", "совершенно не согласен", "категорически не согласен",
        "zdecydowanie się nie zgadzam", "zdecydowanie nie zgadzam się", "zdecydowanie nie",
        # ease
        "very difficult", "extremely difficult", "очень сложно", "очень трудно", "bardzo trudno", "bardzo trudne",
        # likelihood
        "very unlikely", "extremely unlikely", "очень маловероятно", "bardzo mało prawdopodobne",
        # quality
        "poor", "плохо", "słabo"],
    1: ["dissatisfied", "somewhat dissatisfied", "не удовлетворен", "скорее не удовлетворен", "недоволен",
        "скорее недоволен", "niezadowolony", "raczej niezadowolony",
        "disagree", "somewhat disagree", "не согласен", "скорее не согласен",
        "nie zgadzam się", "raczej się nie zgadzam", "raczej nie zgadzam się", "raczej nie",
        "difficult", "somewhat difficult", "сложно", "скорее сложно", "трудно", "trudno", "raczej trudno",
        "unlikely", "somewhat unlikely", "маловероятно", "mało prawdopodobne", "raczej mało prawdopodobne",
        "fair", "удовлетворительно", "przeciętnie"],
    2: ["neither satisfied nor dissatisfied", "neutral", "neither agree nor disagree",
        "neither easy nor difficult", "neither likely nor unlikely",
        "ни то ни другое", "нейтрально", "ни да ни нет", "ни удовлетворен ни не удовлетворен",
        "ни согласен ни не согласен", "ни сложно ни легко", "ни легко ни сложно",
        "ani zadowolony ani niezadowolony", "ani się zgadzam ani nie zgadzam", "ani tak ani nie",
        "trudno powiedzieć", "nie mam zdania", "ani łatwo ani trudno", "neutralnie",
        "good", "хорошо", "dobrze"],
    3: ["satisfied", "somewhat satisfied", "удовлетворен", "скорее удовлетворен", "доволен", "скорее доволен",
        "zadowolony", "raczej zadowolony",
        "agree", "somewhat agree", "согласен", "скорее согласен",
        "zgadzam się", "raczej się zgadzam", "raczej zgadzam się", "raczej tak",
        "easy", "somewhat easy", "легко", "скорее легко", "просто", "łatwo", "raczej łatwo",
        "likely", "somewhat likely", "вероятно", "скорее вероятно", "prawdopodobne", "raczej prawdopodobne",
        "very good", "очень хорошо", "bardzo dobrze"],
    4: ["very satisfied", "extremely satisfied", "completely satisfied",
        "полностью удовлетворен", "очень доволен", "очень удовлетворен", "совершенно удовлетворен",
        "bardzo zadowolony", "zdecydowanie zadowolony", "całkowicie zadowolony",
        "strongly agree", "completely agree", "полностью согласен", "совершенно согласен", "абсолютно согласен",
        "zdecydowanie się zgadzam", "zdecydowanie zgadzam się", "zdecydowanie tak",
        "very easy", "extremely easy", "очень легко", "очень просто", "bardzo łatwo", "bardzo łatwe",
        "very likely", "extremely likely", "очень вероятно", "bardzo prawdopodobne",
        "excellent", "отлично", "doskonale", "znakomicie"],
}

_7 = {
    0: ["extremely dissatisfied", "very dissatisfied", "completely dissatisfied", "strongly disagree",
        "extremely difficult", "very difficult", "extremely unlikely",
        "полностью не удовлетворен", "совсем не удовлетворен", "очень недоволен", "полностью не согласен",
        "совершенно не согласен", "очень сложно", "очень трудно",
        "bardzo niezadowolony", "zdecydowanie niezadowolony", "zdecydowanie się nie zgadzam",
        "zdecydowanie nie zgadzam się", "bardzo trudno"],
    1: ["moderately dissatisfied", "dissatisfied", "disagree", "difficult", "moderately difficult",
        "не удовлетворен", "недоволен", "не согласен", "сложно", "трудно",
        "niezadowolony", "nie zgadzam się", "trudno"],
    2: ["slightly dissatisfied", "somewhat dissatisfied", "somewhat disagree", "slightly disagree",
        "somewhat difficult", "slightly difficult",
        "скорее не удовлетворен", "скорее недоволен", "скорее не согласен", "скорее сложно",
        "raczej niezadowolony", "raczej się nie zgadzam", "raczej nie zgadzam się", "raczej trudno"],
    3: ["neither satisfied nor dissatisfied", "neither agree nor disagree", "neither easy nor difficult",
        "neutral", "ни то ни другое", "нейтрально", "ни да ни нет", "ни согласен ни не согласен",
        "ни сложно ни легко", "ни легко ни сложно",
        "ani zadowolony ani niezadowolony", "ani się zgadzam ani nie zgadzam", "ani tak ani nie",
        "ani łatwo ani trudno", "neutralnie"],
    4: ["slightly satisfied", "somewhat satisfied", "somewhat agree", "slightly agree", "somewhat easy",
        "slightly easy", "скорее удовлетворен", "скорее доволен", "скорее согласен", "скорее легко",
        "raczej zadowolony", "raczej się zgadzam", "raczej zgadzam się", "raczej łatwo"],
    5: ["moderately satisfied", "satisfied", "agree", "easy", "moderately easy",
        "удовлетворен", "доволен", "согласен", "легко", "просто",
        "zadowolony", "zgadzam się", "łatwo"],
    6: ["extremely satisfied", "very satisfied", "completely satisfied", "strongly agree", "extremely easy",
        "very easy", "extremely likely",
        "полностью удовлетворен", "очень доволен", "полностью согласен", "совершенно согласен", "очень легко",
        "очень просто",
        "bardzo zadowolony", "zdecydowanie zadowolony", "zdecydowanie się zgadzam", "zdecydowanie zgadzam się",
        "bardzo łatwo"],
}

_11 = {
    0: ["not at all likely", "extremely unlikely", "not likely at all", "definitely would not recommend",
        "совсем не вероятно", "крайне маловероятно", "точно не порекомендую", "ни в коем случае",
        "совершенно невероятно",
        "zdecydowanie nie polecę", "w ogóle nieprawdopodobne", "bardzo mało prawdopodobne",
        "zupełnie nieprawdopodobne", "na pewno nie polecę"],
    10: ["extremely likely", "definitely would recommend", "very likely",
         "крайне вероятно", "очень вероятно", "обязательно порекомендую", "точно порекомендую",
         "zdecydowanie polecę", "bardzo prawdopodobne", "na pewno polecę", "wysoce prawdopodobne"],
}

#: points on the scale -> {normalised label: position from the bottom}
BUILTIN: dict[int, dict[int, list[str]]] = {5: _5, 7: _7, 11: _11}

#: Declared non-answers: recoded to missing, never logged as invalid values.
NON_ANSWERS = frozenset({
    "don't know", "dont know", "do not know", "not sure", "n/a", "na", "not applicable",
    "prefer not to say", "prefer not to answer", "no opinion", "cannot say", "can't say",
    "не знаю", "затрудняюсь ответить", "затрудняюсь", "нет ответа", "не применимо", "неприменимо",
    "отказ от ответа", "не могу сказать",
    "nie wiem", "nie dotyczy", "odmowa odpowiedzi", "wolę nie odpowiadać", "trudno powiedzieć",
    "nie mam zdania", "trudno stwierdzić",
})

_GENDER = re.compile(r"(?<=[a-zа-яąćęłńóśźż]{3})(?:\(\s*-?\s*[a-zа-яąćęłńóśźż]{1,3}\s*\)|/-?[a-zа-яąćęłńóśźż]{1,3}\b)")
_PUNCT = re.compile(r"[\"'«»“”„,.;:!?()\[\]]")
_LEAD = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:[-–—=:.)(]|\s)\s*\S")
_TRAIL = re.compile(r"\(\s*([+-]?\d+(?:[.,]\d+)?)\s*\)\s*$")


def normalise(label: str) -> str:
    """Lower case, ``ё`` -> ``е``, no gender endings in brackets, no punctuation, single spaces.

    Examples
    --------
    >>> normalise("  Полностью Согласен(на)! ")
    'полностью согласен'
    >>> normalise("Ani się zgadzam, ani nie zgadzam")
    'ani się zgadzam ani nie zgadzam'
    """
    s = str(label).strip().lower().replace("ё", "е").replace("’", "'")
    s = _GENDER.sub("", s)
    s = _PUNCT.sub(" ", s)
    return re.sub(r"\s+", " ", s).strip()


_RU_FEMININE = {  # feminine forms of the Russian adjectives/participles above
    "удовлетворена": "удовлетворен", "довольна": "доволен", "недовольна": "недоволен",
    "согласна": "согласен",
}
_PL_FEMININE = {"zadowolona": "zadowolony", "niezadowolona": "niezadowolony"}


def _masculine(norm: str) -> str:
    words = [_RU_FEMININE.get(w, _PL_FEMININE.get(w, w)) for w in norm.split(" ")]
    return " ".join(words)


@cache
def _non_answer_keys() -> frozenset[str]:
    return frozenset(normalise(x) for x in NON_ANSWERS)


@cache
def builtin_map(points: int) -> dict[str, int]:
    """``{normalised label: position from the bottom}`` for a scale with ``points`` points."""
    out: dict[str, int] = {}
    for pos, labels in BUILTIN.get(points, {}).items():
        for lab in labels:
            key = normalise(lab)
            if key in out and out[key] != pos:
                raise ValueError(f"built-in {points}-point map gives {lab!r} two positions")
            out[key] = pos
    return out


def _number(text: str) -> float | None:
    m = _LEAD.match(text) or _TRAIL.search(text)
    if not m:
        return None
    return float(m.group(1).replace(",", "."))


def recode(
    values: pd.Series,
    scale_min: float,
    scale_max: float,
    custom: Mapping[str, float] | None = None,
    *,
    builtin: bool = True,
    codes: Mapping[str, str] | None = None,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Resolve text labels of a scale column (see the module docstring).

    Parameters
    ----------
    values
        Text cells that are *not* plain numbers (the caller parses those).
    scale_min, scale_max
        The configured scale.
    custom
        ``scales.<name>.labels``: label -> scale point.
    builtin
        Use the built-in en / ru / pl maps.
    codes
        The file's own label -> code map (SPSS value labels), used last.

    Returns
    -------
    numbers : Series of float
        The scale point, NaN where unresolved or a non-answer.
    by_label : Series of bool
        Cells resolved through a label.
    non_answer : Series of bool
        Cells that are declared non-answers (now missing).
    """
    numbers = pd.Series(np.nan, index=values.index, dtype="float64")
    text = values.astype("string")
    present = text.notna() & (text.str.strip() != "")
    uniques = text[present].unique()
    points = int(round(scale_max - scale_min)) + 1
    table = builtin_map(points) if builtin else {}
    own = {normalise(k): float(v) for k, v in (custom or {}).items()}
    file_codes = {normalise(k): v for k, v in (codes or {}).items()}
    resolved: dict[str, float] = {}
    non: set[str] = set()
    for u in uniques:
        key = normalise(u)
        masc = _masculine(key)
        if key in own or masc in own:
            resolved[u] = own.get(key, own.get(masc, np.nan))
            continue
        num = _number(str(u))
        if num is not None:
            resolved[u] = num
            continue
        if key in table or masc in table:
            resolved[u] = scale_min + table.get(key, table.get(masc, 0))
            continue
        if key in file_codes:
            try:
                resolved[u] = float(str(file_codes[key]).replace(",", "."))
                continue
            except ValueError:
                pass
        if key in _non_answer_keys() or masc in _non_answer_keys():
            non.add(u)
    if resolved:
        numbers = text.map(resolved).astype("float64")
    by_label = text.isin(list(resolved)).fillna(False).astype(bool)
    non_answer = text.isin(list(non)).fillna(False).astype(bool)
    return numbers, by_label, non_answer
