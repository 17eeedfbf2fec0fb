"""ganzoo's conformance checks for every contribution of this distribution (the GANs at their test_options)."""

from ganzoo.testing import conformance_tests

test_conformance = conformance_tests("ganzoo-biggan")
