"""The Textual monitor: a config sidebar and live charts over the headless core."""
