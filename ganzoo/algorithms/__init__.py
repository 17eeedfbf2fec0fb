"""The core's training algorithms, registered through the same hook as any plugin's."""
