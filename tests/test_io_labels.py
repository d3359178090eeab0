"""Answer labels -> scale points (cxaudit.io.labels). Expected points are the position of each label
on its published scale template (Qualtrics / SurveyMonkey / Vagias 2006), counted by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxaudit.io.labels import BUILTIN, builtin_map, normalise, recode


@pytest.mark.parametrize("points", sorted(BUILTIN))
def test_builtin_maps_have_no_conflicts(points: int) -> None:
    table = builtin_map(points)  # raises if one label had two positions
    assert table and max(table.values()) <= points - 1


@pytest.mark.parametrize(("label", "lo", "hi", "expected"), [
    ("10 - Extremely likely", 0, 10, 10), ("0 = Not at all likely", 0, 10, 0), ("Extremely likely (10)", 0, 10, 10),
    ("Extremely likely", 0, 10, 10), ("Not at all likely", 0, 10, 0),
    ("Very satisfied", 1, 5, 5), ("Somewhat dissatisfied", 1, 5, 2), ("Neither satisfied nor dissatisfied", 1, 5, 3),
    ("Strongly agree", 1, 7, 7), ("Somewhat agree", 1, 7, 5), ("Agree", 1, 7, 6), ("Agree", 1, 5, 4),
    ("Very easy", 1, 7, 7), ("Excellent", 1, 5, 5), ("Fair", 1, 5, 2),
    ("Полностью согласен", 1, 5, 5), ("Полностью согласна", 1, 5, 5), ("Скорее не удовлетворён", 1, 5, 2),
    ("Согласен(на)", 1, 5, 4), ("Обязательно порекомендую", 0, 10, 10),
    ("Zdecydowanie się zgadzam", 1, 5, 5), ("Raczej niezadowolona", 1, 5, 2), ("Trudno powiedzieć", 1, 5, 3),
    ("Ani się zgadzam, ani nie zgadzam", 1, 7, 4), ("zdecydowanie polecę", 0, 10, 10),
    ("Very satisfied", 0, 4, 4),  # the position is added to the scale's minimum
])
def test_recode_labels(label: str, lo: int, hi: int, expected: int) -> None:
    values, by_label, non = recode(pd.Series([label]), lo, hi)
    assert values.tolist() == [float(expected)] and by_label.tolist() == [True] and not non.any()


@pytest.mark.parametrize(("label", "lo", "hi"), [
    ("Don't know", 1, 5), ("N/A", 1, 5), ("Затрудняюсь ответить", 1, 5), ("Nie wiem", 0, 10),
    ("Trudno powiedzieć", 0, 10),  # a midpoint only on a 5-point scale
])
def test_non_answers(label: str, lo: int, hi: int) -> None:
    values, by_label, non = recode(pd.Series([label]), lo, hi)
    assert np.isnan(values.iloc[0]) and non.tolist() == [True] and by_label.tolist() == [False]


def test_custom_labels_first_then_file_codes() -> None:
    s = pd.Series(["Top notch", "Very satisfied", "Meh", "Whatever"])
    values, by_label, _ = recode(s, 1, 5, {"top notch": 5, "Very satisfied": 4}, codes={"Meh": "2"})
    assert values.tolist()[:3] == [5.0, 4.0, 2.0] and np.isnan(values.iloc[3])
    assert by_label.tolist() == [True, True, True, False]
    values, _, _ = recode(pd.Series(["Very satisfied"]), 1, 5, builtin=False)
    assert np.isnan(values.iloc[0])


def test_normalise() -> None:
    assert normalise("  Полностью  СОГЛАСЁН! ") == "полностью согласен"
    assert normalise("zadowolony/a") == "zadowolony"
    assert normalise("n/a") == "n/a"
