"""The reason each option of the menu gives, in plain words, worded from the numbers that
ranked it (:mod:`zoped.engine.recommend`): why now (a review, a re-check, ready, a start), the
chance of success in words (:mod:`zoped.domain.words`), and the plan, interests and unfinished
work it answers. Dates are days of the school's time zone."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

import numpy as np

from zoped.domain.content import Activity
from zoped.domain.words import chance_in_words
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel

if TYPE_CHECKING:  # the recommender imports this module
    from zoped.engine.recommend import LearnerSnapshot, RecommenderConfig


def when_in_words(at_s: float, now_s: float, zone: tzinfo) -> str:
    """'on Monday' within the last 7 days of the school's calendar (today included), else
    'on 3 March 2025': days of ``zone``, so last Monday is never named as if it were today's
    weekday."""
    moment = datetime.fromtimestamp(at_s, tz=zone)
    days_ago = (datetime.fromtimestamp(now_s, tz=zone).date() - moment.date()).days
    if 0 <= days_ago < 7:
        return f"on {moment:%A}"
    return f"on {moment.day} {moment:%B %Y}"


def option_reason(
    graph: CompetencyGraph,
    activity: Activity,
    codes: list[int],
    sources: list[str],
    p_success: float,
    placed: float,
    learner: LearnerSnapshot,
    config: RecommenderConfig,
    now_s: float,
    zone: tzinfo,
) -> str:
    """A plain-words reason, worded from the numbers that ranked the option; the days it names
    are days of the school's ``zone``.

    ``p_success`` is the option's predicted success (its candidate record's), worded by
    :func:`chance_in_words`; ``placed`` is the number the difficulty band was applied to
    (P(known) on the ``"relative"`` scale, ``p_success`` on the ``"absolute"``), which
    decides between "a good challenge", "you know most of it" ("you knew it well" for a
    review, whose chance is the faded one) and "still new to you".
    """
    target = codes[0]
    title = graph.titles[target]
    sentences: list[str] = []
    if "review" in sources:
        due = [c for c in codes if learner.levels[c] == MasteryLevel.REVIEW_DUE]
        c = due[0] if due else target
        recall = 1.0 if learner.retrievability is None else float(learner.retrievability[c])
        sentences.append(
            f"Time to review {graph.titles[c]}: you mastered it, and now you would remember "
            f"it {chance_in_words(recall)}."
        )
    elif "recheck" in sources:
        c = next((c for c in codes if c in learner.rechecks), target)
        dependent, missed, window, at_s = learner.rechecks[c]
        on = graph.titles[dependent] if 0 <= dependent < graph.n else "what comes next"
        # The window is the one that triggered the re-check, so the sentence names its end:
        # "your last 4" would stop being true with the next answer.
        day = f"{datetime.fromtimestamp(at_s, zone):%-d %B}" if math.isfinite(at_s) else "lately"
        sentences.append(
            f"Let's make sure of {graph.titles[c]} first: of {window} answers on {on} up to "
            f"{day}, you missed {missed}."
        )
    else:
        pre = graph.prerequisites_of(target)
        reached = learner.reached_at_s
        if pre.size and reached is not None and np.isfinite(reached[pre]).any():
            latest = int(pre[np.nanargmax(np.where(np.isfinite(reached[pre]), reached[pre], -1))])
            level = MasteryLevel(int(learner.levels[latest])).label
            sentences.append(
                f"You are ready: you reached {level} on {graph.titles[latest]} "
                f"{when_in_words(float(reached[latest]), now_s, zone)}."
            )
        elif pre.size:
            sentences.append(
                f"You are ready: you are at least proficient on every step before {title}."
            )
        elif learner.levels[target] >= MasteryLevel.ATTEMPTED:
            sentences.append(f"Keep going on {title}: you have started it, not mastered it yet.")
        else:
            sentences.append(f"A good place to start: {title} needs nothing before it.")
    chance = f"You would get these right {chance_in_words(p_success)}"
    if config.band_low <= placed <= config.band_high:
        sentences.append(f"{chance}: a good challenge for you.")
    elif placed > config.band_high and "review" in sources:
        # Known well once, and fading: the chance above is the faded one.
        sentences.append(f"{chance}: you knew it well, and a review brings it back.")
    elif placed > config.band_high:
        sentences.append(f"{chance}: you know most of it already.")
    else:
        sentences.append(f"{chance}: still new to you, so use the hints.")
    if "goal" in sources:
        sentences.append("It is on your plan.")
    shared = sorted(set(activity.interests) & learner.interests)
    if shared:
        sentences.append(f"It matches your interest in {', '.join(shared)}.")
    if "unfinished" in sources:
        sentences.append("You started it: finish it.")
    return " ".join(sentences)
