"""The web view's server for real (aiohttp on a loopback port): access rules, the command,
TLS, a stalled page, a busy port. Clients are urllib (HTTP) and aiohttp (WebSocket)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request

import aiohttp
import pytest
from test_daemon_tls import pki  # noqa: F401 - fixture reuse

from csi_edge.commands import Commands
from csi_edge.config import load_config
from csi_edge.errors import CsiEdgeError
from csi_edge.tools.procs import free_port
from csi_edge.web.publisher import WebPublisher

pytestmark = pytest.mark.timeout(60)
TOKEN = "correct-horse-battery-staple"


def wait_until(condition, timeout: float = 10.0, what: str = "condition"):
    """Poll `condition` until it returns something true (bounded); the server pushes every 0.1 s."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        pause.wait(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def request(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None, context=None):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def serve():
    started = []

    def start(**keys) -> tuple[WebPublisher, str]:
        port = free_port()
        cfg = load_config(None, {"web.enabled": True, "web.port": port, **{f"web.{k}": v for k, v in keys.items()}})
        pub = WebPublisher(cfg.web, "test-node")
        pub.start()
        started.append(pub)
        return pub, f"http://127.0.0.1:{port}"

    yield start
    for pub in started:
        pub.stop(0)


def test_without_the_token_protected_endpoints_answer_401_and_the_page_stays_public(serve):
    pub, base = serve(token=TOKEN)
    for path in ("/api/state", "/api/health", "/api/card", "/ws"):
        status, headers, body = request(base + path)
        assert status == 401, path
        assert headers["WWW-Authenticate"].startswith("Bearer") and json.loads(body)["error"] == "access token required"
    assert request(base + "/api/recalibrate", "POST", body=b"{}")[0] == 401
    assert request(base + "/api/state", headers={"Authorization": "Bearer wrong"})[0] == 401
    status, headers, page = request(base + "/")
    assert status == 200 and b"/static/app.js" in page and "default-src 'self'" in headers["Content-Security-Policy"]
    assert request(base + "/static/app.js")[0] == 200
    assert json.loads(request(base + "/api/session")[2]) == {"token_required": True, "authorized": False}


def test_with_the_token_data_flows_and_recalibrate_reaches_the_command_queue(serve):
    pub, base = serve(token=TOKEN)
    commands = Commands()
    ran: list[str] = []
    commands.register("recalibrate", ran.append)
    pub.accept_commands(commands)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert request(base + "/api/state", headers=bearer)[0] == 503  # nothing yet: say so
    pub.state({"seq": 7, "activity": "walking"})
    pub.health({"packet_rate_Hz": 99.5})
    state = wait_until(lambda: request(base + "/api/state", headers=bearer)[0] == 200 and request(base + "/api/state", headers=bearer))
    assert json.loads(state[2]) == {"seq": 7, "activity": "walking"}
    assert json.loads(request(base + "/api/health", headers=bearer)[2]) == {"packet_rate_Hz": 99.5}
    status, _, body = request(base + "/api/recalibrate", "POST", {**bearer, "Content-Type": "application/json"}, b"{}")
    assert status == 202 and json.loads(body) == {"queued": "recalibrate"}
    assert commands.run_pending() == 1 and ran == ["web"]  # run on the daemon's thread, origin "web"
    cross = {**bearer, "Origin": "http://elsewhere.example"}
    assert request(base + "/api/recalibrate", "POST", cross, b"{}")[0] == 403  # another site cannot drive it
    assert commands.run_pending() == 0


def test_login_gives_an_httponly_cookie_that_opens_the_data(serve):
    pub, base = serve(token=TOKEN)
    pub.state({"seq": 1})
    assert request(base + "/api/login", "POST", {"Content-Type": "application/json"}, b'{"token": "nope"}')[0] == 401
    status, headers, _ = request(base + "/api/login", "POST", {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode())
    assert status == 204
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    assert json.loads(request(base + "/api/session", headers={"Cookie": session})[2])["authorized"] is True
    wait_until(lambda: request(base + "/api/state", headers={"Cookie": session})[0] == 200, what="state with the cookie")


def test_without_a_token_the_view_is_read_only(serve):
    pub, base = serve()
    commands = Commands()
    pub.accept_commands(commands)
    pub.state({"seq": 1})
    wait_until(lambda: request(base + "/api/state")[0] == 200, what="state")
    status, _, body = request(base + "/api/recalibrate", "POST", {"Content-Type": "application/json"}, b"{}")
    assert status == 403 and "need an access token" in json.loads(body)["error"]
    assert commands.run_pending() == 0 and not commands.counts


def test_tls_with_the_mqtt_style_certificate_options(serve, pki):  # noqa: F811
    pub, base = serve(tls=True, cert_file=str(pki / "server.pem"), key_file=str(pki / "server.key"))
    https = base.replace("http://", "https://")
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    status, _, body = request(https + "/api/session", context=ctx)
    assert status == 200 and json.loads(body)["token_required"] is False
    with pytest.raises(urllib.error.URLError):  # a certificate nobody vouched for is refused by the client
        request(https + "/api/session", context=ssl.create_default_context())
    assert pub.url.startswith("https://")


def test_a_busy_port_is_one_clear_error(serve):
    first, base = serve()
    port = int(base.rsplit(":", 1)[1])
    cfg = load_config(None, {"web.enabled": True, "web.port": port})
    with pytest.raises(CsiEdgeError, match=rf"web view: cannot listen on 127.0.0.1:{port} \(Address already in use\)"):
        WebPublisher(cfg.web, "n").start()


def stalled_websocket(port: int) -> socket.socket:
    """A page that opens the WebSocket and then never reads (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


def test_a_stalled_page_loses_messages_counted_while_another_page_gets_the_newest(serve):
    pub, base = serve(client_queue=16)
    port = int(base.rsplit(":", 1)[1])
    stalled = stalled_websocket(port)
    wait_until(lambda: pub.status()["web_clients"] == 1, what="the stalled page to be counted")

    async def reader(last_seq: int) -> int:
        async with aiohttp.ClientSession() as s, s.ws_connect(base + "/ws") as ws:
            ready.set()
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    m = json.loads(msg.data)
                    if m["type"] == "health" and m["data"]["seq"] == last_seq:
                        return m["data"]["seq"]
        return -1

    ready = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(reader(199))))
    thread.start()
    assert ready.wait(10)
    wait_until(lambda: pub.status()["web_clients"] == 2, what="the reading page")
    filler = "x" * 100_000
    for seq in range(200):  # 20 MB: far more than the stalled page's socket buffers hold
        pub.health({"seq": seq, "filler": filler})
        if seq % 20 == 19:
            wait_until(lambda: len(pub.feed._messages) == 0, what="the server thread to take the messages")
    thread.join(30)
    assert result == [199]  # the reading page got the newest message
    assert pub.status()["web_dropped"] > 0  # the stalled one lost messages, counted
    stalled.close()
