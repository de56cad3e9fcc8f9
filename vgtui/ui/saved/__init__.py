"""Saved runs in the app: the list, a run reopened or followed, replay, SVG export."""
