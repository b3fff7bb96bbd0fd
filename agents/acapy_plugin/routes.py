"""Admin-API side of the plugin: an unknown context becomes a 400 that names the URL.

ACA-Py's handlers let JSON-LD loading errors escape as a bare "500 Internal Server Error"; the
controller then cannot tell a bad credential from a broken agent. This middleware finds our
UnknownContextError in the exception chain and answers with its message instead.
"""

from __future__ import annotations

from aiohttp import web

from schemas.loader import UnknownContextError


def find_unknown_context(exc: BaseException | None) -> UnknownContextError | None:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UnknownContextError):
            return exc
        seen.add(id(exc))
        # pyld keeps the underlying error in .cause as well as in __cause__
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return None


@web.middleware
async def unknown_context_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        unknown = find_unknown_context(exc)
        if unknown is None:
            raise
        raise web.HTTPBadRequest(
            reason=str(unknown.args[0]) if unknown.args else "unknown JSON-LD context",
            text=str(unknown.args[0]),
        ) from exc


async def register(app: web.Application) -> None:
    app.middlewares.append(unknown_context_middleware)
