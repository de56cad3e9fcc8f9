"""The Sweep tab: sweep folders followed live, and ``vgtui sweep`` started as a subprocess."""
