"""Case notes and attachments: what workers write and file on a child or a task.

``tables`` (the ``case_note`` and ``attachment`` rows), ``note_rules`` (pure: how long a note
stays editable), ``file_types`` (pure: what a file is, from its content), ``virus_scan``
(ClamAV's INSTREAM) and ``attachment_settings`` (``PACE_ATTACHMENT_MAX_MB``, ``PACE_CLAMD``).
The use cases are ``workflows/services/case_notes.py`` and ``attachments.py``.
"""
