"""Run folders: written by a run, read back (also while they are written)."""
