"""Collusion Arena runtime: players, the match loop, storage and the command line."""

from importlib.metadata import PackageNotFoundError, version


def software_version() -> str:
    """The installed collusion-arena's version, recorded with every match ("unknown" when the
    package is not installed, e.g. run from a bare checkout)."""
    try:
        return version("collusion-arena")
    except PackageNotFoundError:
        return "unknown"
