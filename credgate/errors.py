"""Domain errors: what a service's use cases raise when they refuse or fail, named by a problem
type of the registry (:mod:`credgate.problem_types`) and carrying no HTTP status.

Services stay transport-free (a worker thread, the CLI or a test calls them as a route does), like
pyca/cryptography's ``InvalidSignature``: the caller that must answer over HTTP lets the error
rise, and :mod:`credgate.problems` maps it, in one handler, to a problem document whose status
comes from the registry.
"""

from __future__ import annotations

from typing import Any

from credgate.problem_types import ProblemType, problem_type

__all__ = ["DomainError"]


class DomainError(Exception):
    """A use case's refusal: a registered problem ``type`` (or its slug), an optional ``detail``
    for people, and ``extra`` members for the problem document (``errors``, ``current_status``).

    ``title`` overrides the type's title where a service words it for its own users (the wallet
    says "QR code" where the issuer says "invitation"); the type, and so the status, stay.
    ``retry_after``: seconds after which the same call may succeed (a busy agent, a list being
    signed), for whoever retries; over HTTP it is the ``Retry-After`` header."""

    def __init__(
        self,
        kind: ProblemType | str,
        detail: str | None = None,
        *,
        title: str | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        self.problem_type = kind if isinstance(kind, ProblemType) else problem_type(kind)
        self.title = title or self.problem_type.title
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra
        super().__init__(detail or self.title)

    @property
    def slug(self) -> str:
        return self.problem_type.slug

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.slug!r}, {self.detail!r})"
