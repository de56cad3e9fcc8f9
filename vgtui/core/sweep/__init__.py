"""Trainability sweeps: the spec, the task a worker runs, the folder and its grid."""
