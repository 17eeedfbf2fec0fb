"""Plugin discovery (entry points through pluggy) and the registries of named contributions."""
