"""zoped: open personalized learning.

The learner-model engine (:mod:`zoped.engine`) is usable on its own, without a database or
web server; the platform layers (store, services, api, web) build on it.
"""

__version__ = "0.1.0"
