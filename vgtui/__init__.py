"""vgtui: a terminal experiment monitor that makes the vanishing-gradient problem visible."""

__version__ = "0.1.0"
