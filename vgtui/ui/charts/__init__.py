"""The chart area: the tabs, the plotext charts, the per-setup strip and the Activations tab."""
