"""Adapters: the code that talks to the outside world (database, object store, event bus).

Services depend on these; the pure core never does.
"""
