"""The learner simulator: hidden learners, policies, the comparison protocol and its metrics.

See ``docs/pathways.md`` for the design and :func:`zoped.engine.simulation.runner.simulate`
for the protocol.
"""

from zoped.engine.simulation.course import SimCourse
from zoped.engine.simulation.learners import FAMILIES, HiddenLearners
from zoped.engine.simulation.runner import SimulationConfig, simulate

__all__ = ["FAMILIES", "HiddenLearners", "SimCourse", "SimulationConfig", "simulate"]
