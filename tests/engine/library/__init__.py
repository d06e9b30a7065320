"""A public library's inter-library loan process: a second domain on the generic engine.

Nothing here imports the other domain layer (``workflows``) or the web layer (``web``); the
diagram, its forms and its engine configuration are the library's own
(tests/engine/test_generic_engine.py runs them, and checks the imports).
"""
