"""credgate: the shared base of the suite (settings, secrets, storage, web conventions, CLI)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("credgate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
