"""Mounting a sub-app under a path prefix, as aiohttp's `Application.add_subapp` does.

aiohttp 3.9's PrefixedSubAppResource matches on `request.url`, which aiohttp builds with yarl's
URL.build(host=...); the yarl in the lock refuses a Host header with a port there ("Host '127.0.0.1:8000'
cannot contain ':'"), so every request to a sub-app would fail. This resource matches on the request's
path (`request.rel_url`) instead, and is otherwise the same: the sub-app's middlewares, signals and
cleanup contexts run as with add_subapp.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web
from aiohttp.web_urldispatcher import PrefixedSubAppResource, _Resolve


class _PrefixedByPath(PrefixedSubAppResource):
    async def resolve(self, request: web.Request) -> _Resolve:
        path = request.rel_url.raw_path
        if not path.startswith(self._prefix2) and path != self._prefix:
            return None, set()
        match_info = await self._app.router.resolve(request)
        match_info.add_app(self._app)
        if isinstance(match_info.http_exception, web.HTTPMethodNotAllowed):
            return match_info, match_info.http_exception.allowed_methods
        return match_info, set()


def mount(app: web.Application, prefix: str, subapp: web.Application) -> None:
    """`app.add_subapp(prefix, subapp)`, matching on the request's path (see above)."""
    prefix = prefix.rstrip("/")
    if not prefix:
        raise ValueError("a sub-app needs a prefix")
    app._add_subapp(partial(_PrefixedByPath, prefix, subapp), subapp)
