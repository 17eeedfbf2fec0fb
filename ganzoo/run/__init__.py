"""The run layer: a run's config, its plan (the parts it uses, resolved), its folder, its data and its processes."""
