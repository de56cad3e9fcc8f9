"""The ``vgtui`` command line: ``main`` (streams, signals, the command registry), the train
command, the saved-run commands, the probe and the sweep. Kept light: ``main`` runs before
anything heavy is imported."""
