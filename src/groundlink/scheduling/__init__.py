"""Network scheduling: plan contacts for many requests over a shared antenna network.

The core (no I/O): :mod:`.model` (the problem and the result),
solvers, the bound, fairness, explanations and repair. Adapters build an
:class:`~groundlink.scheduling.model.Instance` from the platform, a JSON
instance file or a SatNet week.
"""
