"""The ``vgtui`` command line: ``main`` (streams, signals, the one command registry), ``common``
(what every command shares), the train command, the saved-run commands, the probe and the
sweep. Kept light: ``main`` runs before anything heavy is imported."""
