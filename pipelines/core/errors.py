"""Typed errors of the studio. Each message names the bad value and the fix."""


class StudioError(Exception):
    """Base class for every error the studio raises on purpose."""


class InputError(StudioError, ValueError):
    """A user-supplied value (file, number, name) is unusable; the message says how to fix it."""


class ModelUnavailableError(StudioError, RuntimeError):
    """A model-backed stage cannot run here (no weights, no network, no GPU, not enough memory)."""


class GenerationCancelled(StudioError):
    """The user stopped the work (the Stop button, or a cancel event); what was made so far is kept."""


class OutputError(StudioError, OSError):
    """An output cannot be written (a folder without write permission, a full disk); the message names
    the path and the fix."""
