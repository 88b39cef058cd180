"""Varde's benchmark: `python -m bot bench [--quick]` (or `python -m bench`). See README, "Benchmarks"."""
