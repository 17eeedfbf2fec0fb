"""Benchmark suites: ``ganzoo bench``."""
