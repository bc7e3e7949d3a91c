"""The endpoint behind every digest's List-Unsubscribe link (RFC 8058 one-click).

`POST /unsubscribe?token=...` (what mail clients send, body `List-Unsubscribe=One-Click`) pauses the
subscriber with that opaque token and answers 200. `GET` shows a page with one button that makes the same
POST: a GET never unsubscribes, because link scanners and previews fetch every link in a mail. An unknown
token is 404, with nothing said about which tokens exist. A WSGI app on the standard library's server
(`tracker unsubscribe-server`); behind a team's reverse proxy, route `/unsubscribe` of
`TRACKER_DASHBOARD_URL` here (Streamlit cannot take a POST).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy import Engine

from tracker.db import session_scope
from tracker.deliver.subscriptions import unsubscribe

log = logging.getLogger(__name__)
_MAX_BODY = 4096  # a one-click body is 26 bytes
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<h1>{title}</h1><p>{text}</p>{form}</body></html>
"""


def app_for(engine: Engine) -> Callable:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        token = (parse_qs(environ.get("QUERY_STRING", "")).get("token") or [""])[0]
        method = environ.get("REQUEST_METHOD", "GET")
        if path.rstrip("/") != "/unsubscribe" or not token or len(token) > 200:
            return _answer(start_response, "404 Not Found", "Not found", "This unsubscribe link is not valid.")
        if method == "GET":
            form = (f'<form method="post" action="/unsubscribe?{html.escape(urlencode({"token": token}))}">'
                    '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                    '<button type="submit">Unsubscribe from these digests</button></form>')
            return _answer(start_response, "200 OK", "Unsubscribe",
                           "Press the button to stop receiving Statehouse AI Tracker digests.", form)
        if method != "POST":
            return _answer(start_response, "405 Method Not Allowed", "Not allowed", "Use the link in the digest.")
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), _MAX_BODY)
        except ValueError:
            length = 0
        environ["wsgi.input"].read(length)  # the body says One-Click; the token alone decides
        with session_scope(engine) as db:
            found = unsubscribe(db, token)
        if not found:
            return _answer(start_response, "404 Not Found", "Not found", "This unsubscribe link is not valid.")
        log.info("a subscriber unsubscribed by the one-click link")  # never the token
        return _answer(start_response, "200 OK", "Unsubscribed",
                       "You will receive no more digests. A maintainer can resume them with "
                       "`tracker subscribe pause --resume`.")

    return app


def _answer(start_response: Callable, status: str, title: str, text: str, form: str = "") -> list[bytes]:
    body = _PAGE.format(title=html.escape(title), text=html.escape(text), form=form).encode("utf-8")
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass  # request lines carry the token: never logged


def make_unsubscribe_server(engine: Engine, host: str = "127.0.0.1", port: int = 8502) -> WSGIServer:
    return make_server(host, port, app_for(engine), handler_class=_QuietHandler)
