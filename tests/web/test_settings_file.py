"""The settings file drives the app itself (issue 25): council, HTTPS cookies and the session
lifetimes from PACE_CONFIG's TOML file reach the app the factory builds, and a variable in
the environment still wins over the file."""
from __future__ import annotations

from datetime import timedelta

from web import create_app


def test_the_app_takes_its_settings_from_the_file(environ, tmp_path):
    path = tmp_path / "pace.toml"
    path.write_text('council = "angus"\nhttps = true\nsecret_key = "k-' + "7" * 40 + '"\n'
                    "[session]\ntimeout_minutes = 20\nmax_hours = 8\n")
    environ["PACE_CONFIG"] = str(path)
    environ["PACE_SESSION_MAX_HOURS"] = "6"  # the environment wins
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    try:
        assert app.extensions["pace_db"].settings.council == "angus"
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SECRET_KEY"] == "k-" + "7" * 40
        assert app.config["SESSION_TIMEOUT_MINUTES"] == 20
        assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=20)
        assert app.config["SESSION_MAX_HOURS"] == 6
    finally:
        app.extensions["pace_db"].engine.dispose()
