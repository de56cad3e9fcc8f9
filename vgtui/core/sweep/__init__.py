"""Trainability sweeps: the spec (spec), the task a worker runs (task), the folder (folder),
its lines (lines), its grid model (grid) and the grid as text (text)."""
