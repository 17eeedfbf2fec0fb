"""The plugin API: what a plugin implements and what it is handed. Its public names are re-exported by ``ganzoo``."""
