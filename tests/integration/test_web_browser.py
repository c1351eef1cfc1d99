"""The web view in a real headless browser (Debian's chromium + chromedriver, driven by selenium
with explicit paths: nothing is downloaded) against `csi-edge run` fed by the simulator.

Every wait is on a condition in the page, bounded; nothing sleeps, nothing asserts timing.
Screenshots go to tmp_path, or to $CSI_EDGE_WEB_SCREENSHOTS (docs/img for docs/web.md):

    CSI_EDGE_WEB_SCREENSHOTS=docs/img .venv/bin/python -m pytest tests/integration/test_web_browser.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from daemon_harness import REPO, DaemonProcess, PtyBoard
from test_web_api import TOKEN, request

from csi_edge.tools.procs import free_port

pytestmark = pytest.mark.timeout(180)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1400,1250")  # fmt: skip
HEATMAP_PIXELS = """
const c = document.getElementById('heatmap');
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
const colours = new Set(); let lit = 0;
for (let i = 0; i < d.length; i += 4) {
  const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
  colours.add(k);
  if (k !== 0x0c0f13) lit++;
}
return [colours.size, lit / (d.length / 4)];
"""


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/setup.sh installs them as root)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path) -> Path:
    out = Path(os.environ.get("CSI_EDGE_WEB_SCREENSHOTS") or tmp_path)
    out = out if out.is_absolute() else REPO / out
    out.mkdir(parents=True, exist_ok=True)
    return out


class Page:
    """The page as a person reads it: element texts, waited on with a bound."""

    def __init__(self, driver, url: str) -> None:
        self.driver = driver
        driver.get(url)

    def text(self, element_id: str) -> str:
        return self.driver.execute_script(f"return document.getElementById('{element_id}').innerText")

    def shown(self, element_id: str) -> bool:
        return not self.driver.execute_script(f"return document.getElementById('{element_id}').hidden")

    def wait(self, condition, what: str, timeout: float = 30.0):
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda _: condition())
        except Exception as exc:
            raise AssertionError(f"the page never showed {what}; events: {self.text('events')!r}") from exc

    def wait_change(self, element_id: str, what: str):
        first = self.wait(lambda: self.text(element_id) not in ("", "–") and self.text(element_id), f"{what}")
        self.wait(lambda: self.text(element_id) not in ("", "–", first), f"{what} changing")

    def errors(self) -> list[dict]:
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, path: Path) -> None:
        assert self.driver.save_screenshot(str(path)), path


def run_daemon(port: int, *extra: str, source: str = "sim") -> DaemonProcess:
    daemon = DaemonProcess(["--source", source, "--no-mqtt", "--node", "lab", "--web", f"127.0.0.1:{port}",
                            "--set", "health.interval_s=1", *extra])  # fmt: skip
    daemon.wait_log("web_listening")
    return daemon


def test_live_page_shows_the_sensor_then_disconnected_and_recovers_after_a_restart(browser, shots):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    daemon = run_daemon(port)
    try:
        page = Page(browser, url)
        page.wait(lambda: page.text("conn") == "connected", "connected")
        page.wait(lambda: page.text("activity") not in ("", "–"), "an activity")
        page.wait_change("result", "the result counter")
        page.wait_change("probs", "the class probabilities")
        page.wait_change("rate", "the packet rate")
        page.wait(lambda: page.text("model").count("default@") == 1, "the model card")
        page.wait(lambda: "RSSI" in page.text("health"), "link health")
        colours, lit = page.wait(lambda: (c := browser.execute_script(HEATMAP_PIXELS))[1] > 0.3 and c, "a heatmap")
        assert colours > 20  # an image of the signal, not a flat fill
        state = json.loads(request(url + "api/state")[2])
        assert state["node"] == "lab" and state["activity"] in json.loads(request(url + "api/card")[2])["classes"]
        assert "packet_rate_Hz" in json.loads(request(url + "api/health")[2])
        assert page.errors() == []  # no console errors while it runs
        if os.environ.get("CSI_EDGE_WEB_SCREENSHOTS"):  # for the docs: the whole 10 s of heatmap
            page.wait(lambda: browser.execute_script(HEATMAP_PIXELS)[1] > 0.95, "a full heatmap")
        page.screenshot(shots / "web_run.png")

        assert daemon.terminate() == 0
        page.wait(lambda: page.text("conn") == "disconnected", "disconnected")
        page.wait(lambda: page.shown("banner") and "disconnected" in page.text("banner"), "the disconnected banner")
        page.screenshot(shots / "web_disconnected.png")

        daemon = run_daemon(port)  # the same port, a new process
        page.wait(lambda: page.text("conn") == "connected", "connected again")
        page.wait(lambda: "the daemon restarted" in page.text("events"), "the restart")
        page.wait(lambda: not page.shown("banner"), "the banner cleared")
        page.wait(lambda: page.text("stream") == "live", "the stream after the restart")
    finally:
        daemon.terminate()


def test_board_stops_and_reconnects_and_a_token_guards_the_view(browser, tmp_path, shots):
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=1.0)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    daemon = run_daemon(port, "--set", f"web.token={TOKEN}", "--set", "source.reconnect_min_s=0.1",
                        "--set", "source.reconnect_max_s=0.5", source=f"serial:{board.link}")  # fmt: skip
    try:
        for path in ("api/state", "api/health", "api/card", "ws"):
            assert request(url + path)[0] == 401, path
        assert request(url + "api/recalibrate", "POST", body=b"{}")[0] == 401
        page = Page(browser, url)
        page.wait(lambda: page.shown("login"), "the token form")
        browser.find_element("id", "token").send_keys(TOKEN + "\n")
        page.wait(lambda: page.text("conn") == "connected", "connected with the token")
        page.wait(lambda: page.text("stream") == "live", "a live stream")

        board.pause()
        page.wait(lambda: page.text("stream") == "stream stopped" and "stream stopped" in page.text("banner"), "stream stopped")
        page.screenshot(shots / "web_stream_stopped.png")
        board.resume()
        page.wait(lambda: page.text("stream") == "live" and "the stream resumed" in page.text("events"), "stream resumed")

        board.replug()
        page.wait(lambda: "the board reconnected" in page.text("events"), "the board reconnecting")
        page.wait(lambda: page.text("stream") == "live", "live after the reconnect")
    finally:
        daemon.terminate()
        board.close()


def test_capture_serves_the_page_with_the_current_label(browser, tmp_path, shots):
    import subprocess
    import sys

    port = free_port()
    cmd = [sys.executable, "-m", "csi_edge.cli", "capture", "record", "--source", "sim", "--realtime",
           "--out", str(tmp_path / "session"), "--protocol", "walking:600", "--web", f"127.0.0.1:{port}"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline().decode() for _ in range(2)]  # the simulator warning, then the URL
        assert "the source is the SIMULATOR" in lines[0] and lines[1].strip() == f"web view: http://127.0.0.1:{port}/", lines
        page = Page(browser, f"http://127.0.0.1:{port}/")
        page.wait(lambda: page.text("conn") == "connected", "connected to the capture")
        page.wait(lambda: page.text("label").startswith("walking"), "the label being recorded")
        page.wait(lambda: not page.shown("model-card") and page.shown("mode"), "capture mode (no model)")
        page.wait(lambda: browser.execute_script(HEATMAP_PIXELS)[1] > 0.3, "the heatmap")
        page.wait(lambda: "RSSI" in page.text("health"), "link health")
        assert page.errors() == []
        page.screenshot(shots / "web_capture.png")
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    assert (tmp_path / "session" / "manifest.json").exists()


def test_drift_novelty_position_and_the_recalibrate_button(browser, shots):
    """What the daemon adds when it has them (drift, recalibration, novelty, positions), fed to
    the real server by hand, and the one control action travelling from a click to the queue."""
    from csi_edge.commands import Commands
    from csi_edge.config import load_config
    from csi_edge.model.card import load_card
    from csi_edge.model.runtime import default_model_path
    from csi_edge.results import StateFields
    from csi_edge.web.publisher import WebPublisher

    port = free_port()
    pub = WebPublisher(load_config(None, {"web.enabled": True, "web.port": port, "web.token": TOKEN}).web, "lab")
    commands = Commands()
    asked: list[str] = []
    commands.register("recalibrate", asked.append)
    pub.accept_commands(commands)
    pub.start()
    try:
        page = Page(browser, f"http://127.0.0.1:{port}/#token={TOKEN}")  # the token once, from the address; then the messages
        page.wait(lambda: page.text("conn") == "connected", "connected with the token from the address")
        card, _ = load_card(default_model_path())
        pub.model_changed(StateFields(card.model_id, card.classes, True, card))
        probabilities = dict.fromkeys(card.classes, 1 / len(card.classes))
        for i in range(1, 21):  # a walk across the room, then not like any trained activity
            pub.state({"time": "2026-11-22T03:04:05.123Z", "seq": i, "node": "lab", "model": card.model_id,
                       "activity": "unknown" if i > 15 else "walking", "probabilities": probabilities, "confidence": 0.25,
                       "presence": True, "position": {"x": 1.0 + 0.1 * i, "y": 2.0 + 0.05 * i, "z": 0.9},
                       "novelty": 0.93, "packet_seq": 100 * i, "latency_ms": 2.5})  # fmt: skip
        pub.health({"time": "2026-11-22T03:04:06.000Z", "node": "lab", "source": {"name": "sim", "connected": True},
                    "packet_rate_Hz": 99.9, "packets_received": 5000, "packets_lost": 3, "loss_percent": 0.06,
                    "decode_errors": {"crc": 2}, "broker_connected": True, "drift": 0.42, "recalibrate": True})  # fmt: skip
        page.wait(lambda: page.text("activity").lower() == "unknown" and "0.93" in page.text("novelty"), "the novelty state")
        page.wait(lambda: page.text("position-text") == "x 3.00 m, y 3.00 m, z 0.90 m", "the position")
        page.wait(lambda: "0.420" in page.text("drift") and "recalibration recommended" in page.text("drift"), "the drift")
        assert "crc" in page.text("errors") and "#token" not in browser.current_url
        page.wait(lambda: page.shown("recalibrate"), "the recalibrate button")
        page.screenshot(shots / "web_drift.png")
        browser.find_element("id", "recalibrate").click()
        page.wait(lambda: page.text("recalibrate-result") == "requested", "the request accepted")
        assert commands.run_pending() == 1 and asked == ["web"]  # on the daemon's queue, from the web
        assert page.errors() == []
    finally:
        pub.stop(0)
