"""Optional deep learner models on PyTorch (extra ``[deep]``): DKT and SAKT.

Nothing here imports torch at import time; building or loading a model does, and says how to
install it (``pip install 'zoped[deep]'``) when it is missing.
"""
