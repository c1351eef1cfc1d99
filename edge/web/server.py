"""The web server: aiohttp in its own thread with its own event loop.

Routes (docs/web.md):

    GET  /                  the page (static, from the installed package)
    GET  /static/...        its script and style
    GET  /api/state         latest state message (the MQTT `state` schema); 503 before the first
    GET  /api/health        latest health message; 503 before the first
    GET  /api/card          the model card as the page shows it; 503 without a model
    GET  /api/session       {"token_required", "authorized"}: whether the page must ask for the token
    POST /api/login         {"token": ...} -> the session cookie (204), 401 on a wrong token
    POST /api/recalibrate   puts the command `recalibrate` on the daemon's queue (202); needs a
                            configured token (403 without one)
    GET  /ws                WebSocket: everything live (csi_edge.web.hub)

Nothing a page sends reaches the pipeline except that one command. The daemon's loop thread
never waits for this thread: it only appends to the Feed (csi_edge.web.feed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path

from aiohttp import WSCloseCode, web

from csi_edge.commands import Commands
from csi_edge.errors import CsiEdgeError
from csi_edge.logs import event
from csi_edge.web.auth import COOKIE, Access, same_origin
from csi_edge.web.hub import Client, Hub

log = logging.getLogger("csi_edge.web")

STATIC = Path(__file__).with_name("static")
PUSH_INTERVAL_S = 0.1  # new heatmap rows and messages go out this often
LIVE_INTERVAL_S = 1.0
LOGIN_FAIL_DELAY_S = 0.5  # a wrong token answers this much later (slows guessing)
SHUTDOWN_S = 1.0  # at stop, pages get this long to acknowledge the close
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PUBLIC = ("/", "/api/session", "/api/login")


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


class WebServer:
    def __init__(self, hub: Hub, access: Access, host: str, port: int, ssl_context=None, max_clients: int = 8) -> None:
        self.hub = hub
        self.access = access
        self.host, self.port = host, port
        self.ssl_context = ssl_context
        self.max_clients = max_clients
        self.commands: Commands | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: str | None = None
        self._stop: asyncio.Event | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    # the daemon's thread ---------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        """Listen (in the server thread); raise CsiEdgeError with one line if that fails."""
        self._thread = threading.Thread(target=self._run, name="csi-edge-web", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise CsiEdgeError(f"web view: did not start listening on {self.url} within {timeout:g} s")
        if self._start_error:
            raise CsiEdgeError(self._start_error)

    def stop(self, timeout: float = 3.0) -> None:
        """Close every page's connection (they show 'disconnected'), stop listening."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl_context else 'http'}://{host}:{self.port}/"

    # the server thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context, reuse_address=True).start()
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            self._start_error = f"web view: cannot listen on {self.host}:{self.port} ({reason})"
            await runner.cleanup()
            self._started.set()
            return
        event(log, "web_listening", url=self.url, token=self.access.required, tls=self.ssl_context is not None)
        self._started.set()
        pump = asyncio.ensure_future(self._pump())
        await self._stop.wait()
        pump.cancel()
        bye = b"csi-edge stopping"
        closing = [asyncio.ensure_future(ws.close(code=WSCloseCode.GOING_AWAY, message=bye)) for ws in self._sockets]
        if closing:  # pages answer the close at once; a stalled one is not waited for
            await asyncio.wait(closing, timeout=SHUTDOWN_S)
        await runner.cleanup()

    async def _pump(self) -> None:
        next_live = 0.0
        while True:
            now = time.monotonic()
            self.hub.pump(now)
            if now >= next_live:
                self.hub.broadcast(self.hub.live(now))
                next_live = now + LIVE_INTERVAL_S
            await asyncio.sleep(PUSH_INTERVAL_S)

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=4096)
        app.router.add_get("/", self._index)
        app.router.add_get("/api/state", self._latest("state"))
        app.router.add_get("/api/health", self._latest("health"))
        app.router.add_get("/api/card", self._latest("card"))
        app.router.add_get("/api/session", self._session)
        app.router.add_post("/api/login", self._login)
        app.router.add_post("/api/recalibrate", self._recalibrate)
        app.router.add_get("/ws", self._websocket)
        app.router.add_static("/static", STATIC, follow_symlinks=False)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        path = request.path
        if request.method != "GET" and not same_origin(request.headers, request.host):
            return _error(403, "cross-origin request refused")
        if not (path in PUBLIC or path.startswith("/static/")) and not self.access.allows(request.headers, request.cookies):
            return _error(401, "access token required", **{"WWW-Authenticate": 'Bearer realm="csi-edge"'})
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            response.headers.update(SECURITY_HEADERS)
        return response

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    def _latest(self, kind: str):
        async def handler(request: web.Request) -> web.Response:
            payload = self.hub.latest.get(kind)
            if payload is None:
                return _error(503, f"no {kind} yet", **{"Retry-After": "1"})
            return web.json_response(payload)

        return handler

    async def _session(self, request: web.Request) -> web.Response:
        return web.json_response({"token_required": self.access.required,
                                  "authorized": self.access.allows(request.headers, request.cookies)})

    async def _login(self, request: web.Request) -> web.Response:
        if not self.access.required:
            return web.json_response({"token_required": False})
        try:
            body = await request.json()
            token = str(body.get("token", ""))
        except (ValueError, AttributeError):
            return _error(400, 'expected JSON {"token": "..."}')
        if not self.access.check_login(token):
            await asyncio.sleep(LOGIN_FAIL_DELAY_S)
            return _error(401, "wrong access token")
        response = web.Response(status=204)
        response.set_cookie(COOKIE, self.access.session, httponly=True, samesite="Strict", path="/",
                            secure=self.ssl_context is not None)  # fmt: skip
        return response

    async def _recalibrate(self, request: web.Request) -> web.Response:
        if not self.access.required:
            return _error(403, "control actions need an access token ([web] token or token_file)")
        if self.commands is None:
            return _error(503, "no daemon to take commands here")
        if not self.commands.put("recalibrate", "web"):
            return _error(503, "command queue full, try again")
        event(log, "web_command", command="recalibrate", peer=request.remote)
        return web.json_response({"queued": "recalibrate"}, status=202)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request.headers, request.host):
            return _error(403, "cross-origin WebSocket refused")
        if len(self.hub.clients) >= self.max_clients:
            return _error(503, f"too many pages open (at most {self.max_clients}, [web] max_clients)")
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
        await ws.prepare(request)
        client = Client(self.hub.settings.client_queue)
        for message in self.hub.hello(time.monotonic()):
            client.offer(message)
        self.hub.clients.add(client)
        self._sockets.add(ws)
        writer = asyncio.ensure_future(self._write(ws, client))
        try:
            async for _ in ws:  # the page has nothing to say: what it sends is read and dropped
                pass
        finally:
            self.hub.clients.discard(client)
            self._sockets.discard(ws)
            writer.cancel()
        return ws

    @staticmethod
    async def _write(ws: web.WebSocketResponse, client: Client) -> None:
        try:
            while True:
                message = await client.queue.get()
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                elif message is not None:
                    await ws.send_str(message)
        except (ConnectionError, RuntimeError):  # the page went away mid-send
            await ws.close()
