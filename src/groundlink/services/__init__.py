"""Services: the stateful shell around the pure core (booking, catalogue, availability, ...).

Each module owns one job and takes its database session and the current time
as arguments; none reads a clock of its own.
"""
