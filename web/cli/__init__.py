"""The ``pace`` command line: each command translates options to one service call."""
