"""Browser tests: the real app served by `grantmatch serve`, driven by headless Chromium.

Chromium is Debian's package at /usr/bin/chromium (Playwright never downloads a browser
here). Without it the browser tests are skipped, or fail under CI (the CI variable is set).

Fixtures:

- ``live_server`` (session): a :class:`LiveServer` with ``url``, ``instance_path``,
  ``mail_path`` and ``database_url``, serving its own freshly migrated database holding the
  demo world and its live matching run.
- ``browser`` (session): the launched Chromium.
- ``new_page`` (test): ``new_page(locale="en-US", width=1280, height=900, **context_args)``
  opens a page in a new browser context; every context is closed after the test.
- ``page`` (test): ``new_page()`` with the defaults; parametrize it indirectly with a locale
  (``@pytest.mark.parametrize("page", ["ja-JP"], indirect=True)``) to change them.

:func:`screenshot` saves full-page PNGs under ``test-output/screenshots/``. After a failed
test, each page still open is saved there as ``FAILED-<test>-<n>.png``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import database_url_for_tests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
GRANTMATCH = str(Path(sys.executable).parent / "grantmatch")
STARTUP_TIMEOUT = 60.0

NewPage = Callable[..., Page]
_CALL_FAILED = pytest.StashKey[bool]()

# Assertions wait as long as actions do (set per context in ``new_page``).
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test (select with ``-m browser``)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Let the page fixtures know, at teardown, whether the test itself failed.
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of ``page`` as test-output/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    instance_path: Path
    database_url: str
    log_path: Path  # what `grantmatch serve` prints: requests and tracebacks

    @property
    def mail_path(self) -> Path:
        """Where the app writes outgoing mail (no SMTP server is configured)."""
        return self.instance_path / "mail"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _grantmatch(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [GRANTMATCH, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"grantmatch {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`grantmatch serve` on a free port of 127.0.0.1, against its own demo database.

    Migration and seeding run as the CLI commands an operator runs, in child processes,
    so the main suite's session factory (core.db) is never rebound.
    """
    instance = tmp_path_factory.mktemp("browser-instance")
    database_url = database_url_for_tests(instance, "browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTMATCH_")}
    env.update(
        GRANTMATCH_ENV="test",
        GRANTMATCH_DATABASE_URL=database_url,
        GRANTMATCH_INSTANCE_PATH=str(instance),
        GRANTMATCH_SECRET_KEY="browser-test-secret-key",
        GRANTMATCH_MATCH_TOP_K="20",
    )
    _grantmatch(["migrate"], env)
    _grantmatch(["seed-demo"], env)  # creates the demo world and runs a full rematch

    log_path = instance / "serve.log"
    for _attempt in range(3):  # another process may take the free port before we bind it
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        serve_env = env | {
            "GRANTMATCH_HOST": "127.0.0.1",
            "GRANTMATCH_PORT": str(port),
            "GRANTMATCH_BASE_URL": url,
        }
        log: IO[bytes] = log_path.open("ab")
        process = subprocess.Popen(
            [GRANTMATCH, "serve"],
            cwd=PROJECT_ROOT,
            env=serve_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline and not _answers(url):
            time.sleep(0.1)
        if process.poll() is None and _answers(url):
            break
        _stop(process)
        log.close()
    else:
        pytest.fail(f"grantmatch serve did not answer /healthz; log:\n{log_path.read_text()}")
    try:
        yield LiveServer(
            url=url, instance_path=instance, database_url=database_url, log_path=log_path
        )
    finally:
        _stop(process)
        log.close()


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed test, print what the server logged meanwhile (its tracebacks)."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server: LiveServer = request.getfixturevalue("live_server")
    start = server.log_path.stat().st_size
    yield
    if request.node.stash.get(_CALL_FAILED, False):
        with server.log_path.open("rb") as log:
            log.seek(start)
            print(f"--- grantmatch serve log ({server.log_path}) ---")
            print(log.read().decode("utf-8", "replace")[-20_000:])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched once for the session."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        reason = (
            f"{CHROMIUM} not found: install Debian's chromium and fonts-noto-cjk packages "
            "(apt-get install --no-install-recommends chromium fonts-noto-cjk)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    if shutil.which("fc-list") and not _has_cjk_font():
        message = "no CJK font: Japanese text renders as boxes (install fonts-noto-cjk)"
        if os.environ.get("CI"):
            pytest.fail(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _has_cjk_font() -> bool:
    result = subprocess.run(
        ["fc-list", ":lang=ja", "family"], capture_output=True, text=True, check=False
    )
    return bool(result.stdout.strip())


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """Open pages, each in its own browser context (own cookies); all closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(
        locale: str = "en-US", width: int = 1280, height: int = 900, **context_args: Any
    ) -> Page:
        context = browser.new_context(
            locale=locale, viewport={"width": width, "height": height}, **context_args
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    failed = request.node.stash.get(_CALL_FAILED, False)
    for number, context in enumerate(contexts):
        if failed:
            for page in context.pages:
                with contextlib.suppress(Exception):  # best effort: the page may be gone
                    screenshot(page, f"FAILED-{request.node.name}-{number}")
        context.close()


@pytest.fixture
def page(new_page: NewPage, request: pytest.FixtureRequest) -> Page:
    """A page in a fresh 1280x900 context; the locale is ``request.param`` or en-US."""
    locale = getattr(request, "param", None) or "en-US"
    return new_page(locale=str(locale))
