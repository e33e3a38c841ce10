"""Errors the user can act on. Their message is one line naming the file and the problem."""


class MonocapError(Exception):
    """Base of every error shown to the user as one line, without a traceback."""


class InputError(MonocapError):
    """An input (video, camera, take, BVH) that cannot be used."""


class OutputError(MonocapError):
    """An output path that cannot be written."""


class NoValidFramesError(MonocapError):
    """A take in which nobody was found in any frame."""


def describe_error(exc: BaseException) -> str:
    """The one line a person reads: a MonocapError's own message, anything else named as internal."""
    if isinstance(exc, MonocapError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"
