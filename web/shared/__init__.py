"""Helpers the pages, the API and the command line share (no routes)."""
