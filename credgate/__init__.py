"""credgate: the base every package builds on (settings, secrets, storage, web conventions,
problem types, notifications). It imports no other package of the suite; the CLI and the
assembly of the services live on the top floor, :mod:`suite`."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("credgate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
