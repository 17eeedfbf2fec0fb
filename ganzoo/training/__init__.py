"""Training: the run config, the shared trainer and what it builds, checkpoints and the run directory."""
