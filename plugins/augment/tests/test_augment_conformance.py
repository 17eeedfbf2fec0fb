from ganzoo.testing import conformance_tests

test_conformance = conformance_tests("ganzoo-augment")
