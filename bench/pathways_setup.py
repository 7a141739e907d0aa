"""The command line and the simulation set-up shared by the pathways diagnostics in bench/.

``pathways_value_of_information.py`` and ``pathways_held_cells.py`` run zoped's policy with
fixed move-on values on the benchmark's learners (same course, family, cohort and population
seeds as ``zoped simulate``); this module builds those pieces once.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from zoped.domain.course import Course
from zoped.engine.mastery import MasteryConfig
from zoped.engine.recommend import RecommenderConfig
from zoped.interop.course_file import load_course_file
from zoped.simulation import SimCourse, SimulationConfig, protocol, runner
from zoped.simulation.learners import FAMILIES, HiddenLearners


def add_arguments(parser: argparse.ArgumentParser, learners: int, seeds: int) -> None:
    """The options every pathways diagnostic takes (with its own default size)."""
    parser.add_argument("--framework", type=Path, default=None)
    parser.add_argument("--family", choices=sorted(FAMILIES), default="strength")
    parser.add_argument("--learners", type=int, default=learners)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--cohort", default="mixed")
    parser.add_argument("--mastered-p", type=float, default=0.95)
    parser.add_argument("--review", type=float, default=0.7)


@dataclass(frozen=True)
class Setup:
    """A course to simulate and zoped's fixed move-on values, from the parsed options."""

    course: Course
    sim: SimCourse
    config: SimulationConfig
    mastery: MasteryConfig
    family: str
    cohort: str
    learners: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Setup:
        path = args.framework or Path(
            str(resources.files("zoped") / "content" / "demo_course.yaml")
        )
        course = load_course_file(path)
        sim = SimCourse.build(course.framework.competencies, course.items)
        config = SimulationConfig(
            n_learners=args.learners,
            budget=runner.default_budget(sim),
            seeds=tuple(range(args.seeds)),
            families=(args.family,),
            cohort=args.cohort,
            recommender=RecommenderConfig(w_difficulty=0.0),
        )
        mastery = replace(
            MasteryConfig(), mastered_p=args.mastered_p, review_retrievability=args.review
        )
        return cls(course, sim, config, mastery, args.family, args.cohort, args.learners)

    @property
    def family_index(self) -> int:
        """The family's place in ``zoped simulate``'s default order: its seeds use that."""
        return SimulationConfig().families.index(self.family)

    def population(self, seed: int, role: int) -> HiddenLearners:
        """The benchmark's learners: ``protocol.CALIBRATION`` or ``protocol.EVALUATION``."""
        return protocol.draw_learners(
            self.sim, self.config, self.family, self.family_index, seed, role
        )

    def policy_rng(self, seed: int) -> np.random.Generator:
        """The generator every policy of one seed runs on (the same for each)."""
        return protocol.seeded_rng(seed, self.family_index, protocol.POLICY_CHOICES)
