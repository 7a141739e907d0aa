"""Numbers in words: what a learner or guardian reads instead of "P(known) 0.43" or "43 %"."""

from __future__ import annotations

import math

import pytest

from zoped.domain.words import chance_in_words, change_in_words, sureness_in_words
from zoped.errors import InvalidInput


@pytest.mark.parametrize(
    ("p", "words"),
    [
        (0.0, "hardly ever"),
        (0.04, "hardly ever"),
        (0.05, "about 1 time in 10"),
        (0.14, "about 1 time in 10"),
        (0.43, "about 4 times in 10"),
        (0.45, "about 5 times in 10"),
        (0.87, "about 9 times in 10"),
        (0.949, "about 9 times in 10"),
        (0.95, "nearly every time"),
        (1.0, "nearly every time"),
        (1, "nearly every time"),
    ],
)
def test_chance_in_words(p: float, words: str) -> None:
    assert chance_in_words(p) == words


@pytest.mark.parametrize(
    ("p", "words"),
    [
        (0.0, "not yet"),
        (0.24, "not yet"),
        (0.25, "not sure yet"),
        (0.55, "fairly sure you know it"),
        (0.85, "very sure you know it"),
        (1.0, "very sure you know it"),
    ],
)
def test_sureness_in_words(p: float, words: str) -> None:
    assert sureness_in_words(p) == words


def test_change_in_words_says_which_way_it_moved() -> None:
    assert change_in_words(0.40, 0.55) == "more sure you know it now"
    assert change_in_words(0.55, 0.40) == "less sure you know it now"
    assert change_in_words(0.5, 0.503) == "as sure as before"
    assert change_in_words(0.5, 0.505) == "more sure you know it now"


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, math.inf, "0.5", None, True])
def test_not_a_probability_is_a_clear_error(bad: object) -> None:
    for words in (chance_in_words, sureness_in_words):
        with pytest.raises(InvalidInput, match="not a probability"):
            words(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        change_in_words(0.5, bad)  # type: ignore[arg-type]


def test_no_words_carry_digits_with_percent_or_a_decimal_point() -> None:
    for i in range(1001):
        for words in (chance_in_words(i / 1000), sureness_in_words(i / 1000)):
            assert "%" not in words
            assert "." not in words
