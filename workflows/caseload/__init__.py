"""Caseload import: reading the CSV, placing children mid-journey, background jobs."""
