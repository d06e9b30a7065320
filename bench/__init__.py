"""Benchmarks of PACE Flow: ``python -m bench`` (``make bench``); see bench/__main__.py."""
