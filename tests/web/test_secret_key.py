"""The session-signing key file (web/__init__.py ``_secret_key``): created readable by its
owner only, with no moment it is readable by others, and one key however many processes
start at once (issue 30)."""
from __future__ import annotations

import os
import stat
import threading

import web


def test_the_key_file_is_created_with_its_final_mode(tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        opened.append((os.path.basename(path), flags & os.O_CREAT, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    previous = os.umask(0)  # the most permissive umask: the mode must come from the code
    try:
        key = web._secret_key(tmp_path)
    finally:
        os.umask(previous)
    assert len(key) == 64 and int(key, 16) >= 0
    assert [(created, mode) for _, created, mode in opened if created] == [(os.O_CREAT, 0o600)]
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind
    assert web._secret_key(tmp_path) == key


def test_an_older_world_readable_key_is_tightened(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("a" * 64)
    path.chmod(0o644)
    assert web._secret_key(tmp_path) == "a" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_processes_starting_together_share_one_key(tmp_path):
    keys, start = [], threading.Barrier(8)

    def run():
        start.wait()
        keys.append(web._secret_key(tmp_path))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
