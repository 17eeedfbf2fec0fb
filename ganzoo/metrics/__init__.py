"""Metrics. Each figure is reported with the protocol that produced it."""
