"""Process models: drafts, checks, changes and the bundled diagrams."""
