"""One gate for every route but /healthz: bearer tokens for scripts, a login form and session cookie for browsers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import os
import time
from urllib.parse import parse_qs, quote

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("bess.http")

TOKEN_ENV = "BESS_API_TOKEN"
COOKIE = "bess_session"
SESSION_MAX_AGE_S = 12 * 3600
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
OPEN_PATHS = ("/healthz",)  # probes need no token
MAX_FORM_BYTES = 4096
FAILED_LOGIN_DELAY_S = 1.0  # slows guessing; tokens should be long and random anyway


def tokens_from_env() -> tuple[str, ...]:
    """The accepted tokens: $BESS_API_TOKEN, comma-separated (several at once allow a rotation)."""
    return parse_tokens(os.environ.get(TOKEN_ENV, ""))


def parse_tokens(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(t.strip() for t in items if t and t.strip())


def _mac(token: bytes, issued: int) -> str:
    return hmac.new(token, f"bess-session:{issued}".encode(), hashlib.sha256).hexdigest()


class Tokens:
    """Constant-time checks of a bearer token or a session cookie against every configured token."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tuple(t.encode() for t in tokens)

    def bearer_ok(self, given: bytes) -> bool:
        ok = False
        for token in self.tokens:  # no early exit: the time does not tell which token matched
            ok |= hmac.compare_digest(given, token)
        return ok

    def new_session(self, token: bytes, now: float | None = None) -> str:
        """A cookie value signed with the token used to log in: removing that token ends the session."""
        issued = int(now if now is not None else time.time())
        return f"{issued}.{_mac(token, issued)}"

    def session_ok(self, value: str, now: float | None = None) -> bool:
        issued_s, _, mac = value.partition(".")
        if not issued_s.isdigit() or len(issued_s) > 12:
            return False
        issued, now = int(issued_s), (now if now is not None else time.time())
        if not (now - SESSION_MAX_AGE_S <= issued <= now + 60):
            return False
        ok = False
        for token in self.tokens:
            ok |= hmac.compare_digest(mac.encode(), _mac(token, issued).encode())
        return ok

    def matching(self, given: bytes) -> bytes | None:
        found = None
        for token in self.tokens:
            if hmac.compare_digest(given, token):
                found = token
        return found


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                out.setdefault(k, v)
    return out


def safe_next(target: str) -> str:
    """Only a path on this server (no //evil.example, no backslash tricks) is a redirect target."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


LOGIN_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>BESS-OS: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
input{{width:100%;padding:.5rem;margin:.25rem 0 1rem;box-sizing:border-box}}button{{padding:.5rem 1.5rem}}
.error{{color:#b00020}}</style></head><body><h1>BESS-OS</h1>{message}
<form method="post" action="{action}"><label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{next}"><button type="submit">Sign in</button></form>
<p><small>Scripts send <code>Authorization: Bearer &lt;token&gt;</code> instead.</small></p></body></html>"""


def login_page(next_path: str, message: str = "") -> bytes:
    msg = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return LOGIN_HTML.format(message=msg, action=LOGIN_PATH, next=html.escape(safe_next(next_path), quote=True)).encode()


async def _respond(send: Send, status: int, body: bytes, ctype: bytes,
                   headers: list[tuple[bytes, bytes]] = ()) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": body})


async def _read_form(receive: Receive) -> dict[str, str] | None:
    chunks, size, more = [], 0, True
    while more:
        message: Message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_FORM_BYTES:
            return None
        more = message.get("more_body", False)
    try:
        parsed = parse_qs(b"".join(chunks).decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items()}


class AuthGate:
    """With tokens configured, every HTTP request and websocket needs a valid token, except /healthz.

    - scripts: ``Authorization: Bearer <token>`` (any of the configured tokens);
    - browsers: GET /login shows a form; POST /login with the right token sets the session cookie
      (HttpOnly, SameSite=Strict, Secure over https; signed with that token, 12 h) and redirects
      back. A browser page request without either is redirected to the form; anything else gets 401.
    """

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...]) -> None:
        self.app = app
        self.tokens = Tokens(tokens)

    def _authenticated(self, scope: Scope) -> bool:
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        if scheme.lower() == b"bearer" and self.tokens.bearer_ok(given.strip()):
            return True
        cookie = _cookies(scope).get(COOKIE)
        return bool(cookie) and self.tokens.session_ok(cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if kind == "http" and (path in OPEN_PATHS or scope["method"] == "OPTIONS"):
            await self.app(scope, receive, send)  # CORS preflights carry no credentials by design
            return
        if kind == "http" and path == LOGIN_PATH:
            await self._login(scope, receive, send)
            return
        if kind == "http" and path == LOGOUT_PATH:
            await _respond(send, 303, b"", b"text/plain", [
                (b"location", LOGIN_PATH.encode()),
                (b"set-cookie", f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict".encode())])
            return
        if self._authenticated(scope):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        accept = dict(scope["headers"]).get(b"accept", b"")
        if scope["method"] in ("GET", "HEAD") and b"text/html" in accept:
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            await _respond(send, 303, b"", b"text/plain",
                           [(b"location", f"{LOGIN_PATH}?next={quote(target, safe='')}".encode())])
            return
        body = {"data": None, "errors": [{"message": "missing or wrong token: send Authorization: Bearer <token>, "
                                          f"or sign in at {LOGIN_PATH} in a browser",
                                          "extensions": {"code": "UNAUTHENTICATED"}}]}
        await _respond(send, 401, orjson.dumps(body), b"application/json", [(b"www-authenticate", b"Bearer")])

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        html_type = b"text/html; charset=utf-8"
        if scope["method"] in ("GET", "HEAD"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            await _respond(send, 200, login_page(query.get("next", ["/"])[0]), html_type)
            return
        if scope["method"] != "POST":
            await _respond(send, 405, b"GET or POST", b"text/plain", [(b"allow", b"GET, POST")])
            return
        form = await _read_form(receive)
        if form is None:
            await _respond(send, 400, login_page("/", "The form could not be read."), html_type)
            return
        token = self.tokens.matching(form.get("token", "").strip().encode())
        next_path = safe_next(form.get("next", "/"))
        if token is None:
            log.warning("failed sign-in from %s", (scope.get("client") or ("?",))[0])
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)
            await _respond(send, 401, login_page(next_path, "Wrong token."), html_type)
            return
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = (f"{COOKIE}={self.tokens.new_session(token)}; Path=/; Max-Age={SESSION_MAX_AGE_S}; HttpOnly; "
                  f"SameSite=Strict{secure}")
        await _respond(send, 303, b"", b"text/plain", [(b"location", quote(next_path, safe="/?=&%:;,+@-._~").encode()),
                                                      (b"set-cookie", cookie.encode())])
