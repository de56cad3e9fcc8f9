"""Test-set evaluation behind one interface: on the calling thread, or shared with helper
processes."""
