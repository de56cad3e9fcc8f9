"""Headless core of vgtui: data, engine, trainer and results.

Nothing in this package may import textual or plotext;
``tests/unit/test_architecture.py`` guards it.
"""
