"""The learner simulator: hidden learners, policies, the comparison protocol and its metrics.

See ``docs/pathways.md`` for the design and :func:`zoped.simulation.protocol.simulate`
for the protocol.
"""

from zoped.simulation.course import SimCourse
from zoped.simulation.learners import FAMILIES, HiddenLearners
from zoped.simulation.protocol import simulate
from zoped.simulation.runner import SimulationConfig

__all__ = ["FAMILIES", "HiddenLearners", "SimCourse", "SimulationConfig", "simulate"]
