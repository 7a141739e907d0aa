"""zoped's learner-model engine: numpy only, no database, no web.

Every model follows :class:`zoped.engine.base.LearnerModel`. Models are listed in
:mod:`zoped.engine.registry`.
"""
