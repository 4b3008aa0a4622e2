"""Run the real app on 127.0.0.1 and drive it with headless Debian Chromium (Playwright)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def app_server(home: Path, timeout: float = 90.0):
    """Start ``streamlit run app.py`` on a free port with ``MARSVIZ_HOME=home``; yield its base URL."""
    port = free_port()
    env = {**os.environ, "MARSVIZ_HOME": str(home), "PYTHONPATH": str(ROOT)}
    log = open(home / "streamlit.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {(home / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser (Playwright), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: int = 60000) -> None:
    """Wait until the app script has run (sidebar weights drawn) and no rerun is in progress."""
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stSlider']", timeout=timeout_ms)
    idle_checks = 0
    deadline = time.monotonic() + timeout_ms / 1000
    while idle_checks < 4 and time.monotonic() < deadline:
        busy = page.evaluate("() => !!document.querySelector('[data-testid=\"stStatusWidget\"]')"
                             " || !!document.querySelector('[data-testid=\"stSkeleton\"]')")
        idle_checks = 0 if busy else idle_checks + 1
        page.wait_for_timeout(250)


def viewer_heading(page) -> str:
    """The open image's name, as the viewer's heading shows it."""
    return page.locator("[data-testid='stMarkdownContainer'] h4").first.inner_text(timeout=30000)


def wait_for_heading(page, name: str, timeout_ms: int = 30000) -> None:
    """Wait until a heading on the page shows `name` (the viewer has opened that image)."""
    page.wait_for_function("(name) => [...document.querySelectorAll('h4')].some(h => h.innerText.includes(name))",
                           arg=name, timeout=timeout_ms)


class HeldReplies:
    """The app server's messages to a page, held back while :attr:`held` is set: a slow connection, on cue.

    Made before the page opens the app (Playwright routes the page's websocket to the server).
    """

    def __init__(self, page):
        self.held = False
        self._waiting: list = []
        self._to_page = None
        page.route_web_socket(re.compile(r"/_stcore/stream"), self._route)

    def _route(self, socket) -> None:
        self._to_page = socket
        socket.connect_to_server().on_message(self._from_server)

    def _from_server(self, message) -> None:
        if self.held:
            self._waiting.append(message)
        else:
            self._to_page.send(message)

    def release(self) -> None:
        """Send the held messages on, in order, and stop holding."""
        self.held = False
        for message in self._waiting:
            self._to_page.send(message)
        self._waiting.clear()
