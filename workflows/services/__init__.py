"""One function per user action, shared by the pages, the ``/api/v1`` API and the ``pace`` CLI.

Each service takes the acting user (anything with ``id``, ``username``, ``roles`` and
``team``: see ``workflows.policy.Actor``), the open session of the caller's unit of work
and plain arguments; it asks ``workflows.policy`` whether the actor may act, does the work
through the engine and the domain modules, and returns the result or raises one of the
engine's typed errors (``NotFound`` 404, ``Forbidden`` 403, ``Conflict`` 409,
``InvalidData`` 422), each saying what was wrong and what to do. The callers only
translate: form fields or JSON in, a page, a JSON body or a line of text out.
"""
