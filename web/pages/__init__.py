"""The worker pages: Flask blueprints rendering GOV.UK Frontend templates."""
