"""Helpers shared by the tests, the benchmark and the drills; not a test module."""
