"""One error root for everything a user can get wrong.

A `CsiEdgeError` is shown as one line on stderr (never a traceback) and sets the exit code:
`UsageError` (bad arguments, bad configuration) exits 2, every other `CsiEdgeError` exits 1.
Messages name the place (file, line, byte offset, config key) and, where there is one, the fix.
"""

from __future__ import annotations


class CsiEdgeError(Exception):
    """A failure the user can act on; printed as one line, exit code 1."""

    exit_code = 1


class UsageError(CsiEdgeError):
    """Bad command line or configuration; exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration key or value is wrong; the message names the key path."""


class DataError(CsiEdgeError):
    """An input file cannot be used; the message names the file and the place in it."""


class ModelMismatchError(CsiEdgeError):
    """A model card does not match the stream or its ONNX file."""
