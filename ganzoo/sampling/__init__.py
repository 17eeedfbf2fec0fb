"""Drawing samples from trained generators, and picturing them."""
