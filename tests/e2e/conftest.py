"""The real-browser harness: Debian's Chromium driven by Playwright against a live MotCua server.

- ``live_server`` (one per test module): a fresh database (a SQLite file, or a schema of its own on
  the configured PostgreSQL), the real composition root with the real local clock, the published
  procedures, the demo world, served by werkzeug on 127.0.0.1 with a free port. ``PUBLIC_URL`` is
  the live server, so the QR codes on signed PDFs open its verification pages.
- ``new_page(width=1280)``: a page in a fresh browser context (its own cookies). Every request it
  makes is logged; a request to any other host is aborted and recorded as a violation. At the end of
  the test there must be no violation and no console error.
- ``shoot(page, name)``: full-page screenshots at phone and desktop widths into
  ``$MOTCUA_ARTIFACTS/e2e/`` (default ``build/artifacts/e2e/``), after checking the page at both
  widths (no sideways scrolling, ``lang``, labels, ``alt``, one ``h1``).
- ``login(page, username)``: signs in through the real login form.

Two things to know when writing a browser test:
- ``live_server.services`` runs every method call on a worker thread. Playwright's sync API keeps
  an asyncio loop running on the test's thread, and signing or verifying a PDF (pyHanko) calls
  ``asyncio.run``, which refuses to start inside a running loop.
- Chromium logs "Failed to load resource: ... status of 4xx" as a console error when a page
  answers with an error status, even the page itself. A test that opens an error page on purpose
  says so: ``new_page.guard(page).expect_console_error(r"status of 404")``.

The browser is Debian's Chromium (``/usr/bin/chromium``, installed by ``./dev test`` from
deploy/debian-packages.txt); nothing is downloaded, and the browser's own background traffic
(updates, sync, metrics) is switched off.
"""
from __future__ import annotations

import datetime as dt
import functools
import inspect
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import _configured_url, _Postgres
from motcua.bootstrap import bootstrap, upgrade_database
from motcua.settings import BUNDLED_PROCEDURES, Settings
from web import create_app
from motcua.demo import seed_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--safebrowsing-disable-auto-update",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
REPOSITORY = Path(__file__).resolve().parents[2]
PASSWORD = "motcua-demo"


def artifacts_dir() -> Path:
    """Where screenshots go: ``$MOTCUA_ARTIFACTS/e2e`` or ``build/artifacts/e2e`` in the repository."""
    base = os.environ.get("MOTCUA_ARTIFACTS")
    return (Path(base) if base else REPOSITORY / "build" / "artifacts") / "e2e"


# ------------------------------------------------------------------------------------------ live server


class EngineCalls:
    """The services, each method call run on one worker thread beside the browser (see above)."""

    def __init__(self, services: Any, pool: ThreadPoolExecutor | None = None):
        self._services = services
        self._pool = pool or ThreadPoolExecutor(max_workers=1, thread_name_prefix="e2e-engine")

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._services, name)
        if type(value).__module__.startswith("engine.usecases."):  # a use case: its methods run there too
            return EngineCalls(value, self._pool)
        if not inspect.ismethod(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._pool.submit(value, *args, **kwargs).result()

        return call

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    demo: dict  # what seed_demo describes: scenarios, staff, staff_names, password...
    services: EngineCalls
    config: dict

    @property
    def netloc(self) -> str:
        return urlsplit(self.url).netloc

    def path_of(self, url: str) -> str:
        """The path (and query) of one of this server's URLs, e.g. a verification link."""
        parts = urlsplit(url)
        assert parts.netloc == self.netloc, f"{url} is not on the live server {self.url}"
        return parts.path + (f"?{parts.query}" if parts.query else "")


class _QuietHandler(WSGIRequestHandler):
    """No line per request in the test output; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Deferred:
    """The WSGI app the server starts with: the socket is bound (and the port known) before the app,
    whose PUBLIC_URL needs that port, is built.

    Each response is read whole and its iterable closed here: werkzeug's development server skips
    ``close()`` when the browser drops a connection early (a page left while its favicon loads), and
    the open file would then surface as a ResourceWarning, an error under ``filterwarnings``."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        body = self.app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, font_cache: Path) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("e2e-server")
    with ExitStack() as cleanup:
        base_url = _configured_url()
        if base_url:
            # a schema of its own: the function-scoped fixtures empty theirs between tests
            postgres = _Postgres(base_url)
            cleanup.callback(postgres.drop)
            db_url = postgres.url
        else:
            db_url = f"sqlite:///{folder / 'motcua.db'}"
            upgrade_database(db_url)

        wsgi = _Deferred()
        server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
        cleanup.callback(server.server_close)
        url = f"http://127.0.0.1:{server.server_port}"
        config = {
            "DATABASE_URL": db_url,
            "DATA_DIR": str(folder / "instance"),
            "FONT_CACHE_DIR": str(font_cache),
            "PROCEDURES": str(BUNDLED_PROCEDURES),
            "SECRET_KEY": "e2e-secret",
            "PUBLIC_URL": url,
            "ISSUE_INLINE": True,  # no task worker beside this in-process server: sign in the request
        }
        settings = Settings.from_environment(config)
        services = bootstrap(settings)  # the real local clock
        cleanup.callback(services.engine.dispose)
        services.procedures.publish_procedures()
        services.deadlines.sync_calendars()
        demo = seed_demo(services, people=60)
        wsgi.app = create_app(settings, services=services)

        thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
        thread.start()
        cleanup.callback(thread.join, 10)
        cleanup.callback(server.shutdown)  # callbacks run last in, first out: shutdown, then join
        engine_calls = EngineCalls(services)
        cleanup.callback(engine_calls.close)
        yield LiveServer(url=url, demo=demo, services=engine_calls, config=config)


# ------------------------------------------------------------------------------------------ the browser


# Module scope, not session: while Playwright's sync API runs it keeps an asyncio loop on the main
# thread, and the tests after these (signing with pyHanko calls asyncio.run) must find none.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"The browser tests need Debian's Chromium at {CHROMIUM}. Run `./dev test`, which installs "
                    "the packages listed in deploy/debian-packages.txt (chromium among them).", pytrace=False)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="module")
def browser(playwright_driver: Any) -> Iterator[Any]:
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@dataclass
class RequestGuard:
    """What one browser context asked for. Requests to another host are aborted and recorded."""

    netloc: str
    requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    ignored: list[re.Pattern] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension", "chrome-untrusted"):
            return True  # inline data and the browser's own pages (its PDF viewer): no network host
        return parts.scheme in ("http", "https") and parts.netloc == self.netloc

    def route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        if self.allowed(url):
            route.continue_()
        else:
            self.violations.append(url)
            route.abort("blockedbyclient")

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"{message.text} ({location.get('url', '?')}:{location.get('lineNumber', '?')})")

    def on_page_error(self, error: Any) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def expect_console_error(self, pattern: str) -> None:
        """A console error this test provokes on purpose (e.g. an error page's status), by regex."""
        self.ignored.append(re.compile(pattern))

    def unexpected_console_errors(self) -> list[str]:
        return [e for e in self.console_errors if not any(p.search(e) for p in self.ignored)]

    def clear(self) -> None:
        self.violations.clear()
        self.console_errors.clear()


class PageFactory:
    """``new_page(width=1280)``: a page in a fresh context (own cookies), guarded and logged."""

    def __init__(self, browser: Any, server: LiveServer):
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self._guards: dict[int, RequestGuard] = {}

    def __call__(self, width: int = DESKTOP["width"], height: int | None = None, **context_options: Any) -> Any:
        height = height or (PHONE["height"] if width <= PHONE["width"] else DESKTOP["height"])
        context = self.browser.new_context(base_url=self.server.url, viewport={"width": width, "height": height},
                                           service_workers="block", **context_options)
        self.contexts.append(context)
        guard = RequestGuard(self.server.netloc)
        context.route("**/*", guard.route)
        page = context.new_page()
        page.on("console", guard.on_console)
        page.on("pageerror", guard.on_page_error)
        page.set_default_timeout(30_000)  # generous: CI runs the browser beside the whole suite on 2 cores
        self._guards[id(page)] = guard
        return page

    def guard(self, page: Any) -> RequestGuard:
        return self._guards[id(page)]

    def guards(self) -> list[RequestGuard]:
        return list(self._guards.values())

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[PageFactory]:
    factory = PageFactory(browser, live_server)
    try:
        yield factory
    finally:
        factory.close()
    violations = [v for g in factory.guards() for v in g.violations]
    errors = [e for g in factory.guards() for e in g.unexpected_console_errors()]
    assert not violations, "the page asked another host for something (aborted):\n" + "\n".join(violations)
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


# ------------------------------------------------------------------------------------------ page checks

PAGE_CHECKS = r"""
() => {
  const problems = [];
  const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.getAttribute("name") ? `[name="${el.getAttribute("name")}"]` : "")
      + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const scroller = document.scrollingElement || document.documentElement;
  if (scroller.scrollWidth > window.innerWidth + 1) {
    const wide = [...document.body.querySelectorAll("*")]
      .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(-3).map(el => `${describe(el)} (right edge ${Math.round(el.getBoundingClientRect().right)}px)`);
    problems.push(`scrolls sideways: ${scroller.scrollWidth}px of content in a ${window.innerWidth}px window; `
                  + `too wide: ${wide.join(", ")}`);
  }
  const lang = document.documentElement.getAttribute("lang");
  if (lang !== "vi" && lang !== "en") problems.push(`<html lang="${lang}"> is neither "vi" nor "en"`);
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
      && getComputedStyle(el).visibility !== "hidden";
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (el.tagName === "INPUT" && ["hidden", "submit", "button", "reset", "image"].includes(type)) continue;
    if (!visible(el)) continue;
    const byLabel = [...(el.labels || [])].some(l => l.textContent.trim());
    const byAria = (el.getAttribute("aria-label") || "").trim();
    const byRef = (el.getAttribute("aria-labelledby") || "").split(/\s+/)
      .some(id => id && document.getElementById(id) && document.getElementById(id).textContent.trim());
    if (!byLabel && !byAria && !byRef) problems.push(`no accessible label: ${describe(el)}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`img without alt: ${img.getAttribute("src")}`);
  }
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(`${h1} h1 headings (a page has exactly one)`);
  return problems;
}
"""


def page_problems(page: Any) -> list[str]:
    """What is wrong with the page as shown now (at its current viewport)."""
    return page.evaluate(PAGE_CHECKS)


def check_page(page: Any) -> None:
    """The page checks at phone and at desktop width (the viewport is restored after)."""
    original = page.viewport_size
    problems: list[str] = []
    try:
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            problems += [f"{label} {size['width']}px: {p}" for p in page_problems(page)]
    finally:
        page.set_viewport_size(original)
    assert not problems, f"{page.url} fails the page checks:\n" + "\n".join(problems)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120] or "page"


class Camera:
    """``shoot(page, name)``: check the page and save it at phone and desktop width, numbered in order."""

    def __init__(self, test_name: str, folder: Path):
        self.test = _slug(test_name)
        self.folder = folder
        self.count = 0
        self.saved: list[Path] = []

    def __call__(self, page: Any, name: str) -> list[Path]:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("load")
        original = page.viewport_size
        problems: list[str] = []
        paths = []
        try:
            for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
                page.set_viewport_size(size)
                problems += [f"{label} {size['width']}px: {p}" for p in page_problems(page)]
                path = self.folder / f"{self.test}-{self.count:02d}-{_slug(name)}-{label}.png"
                page.screenshot(path=str(path), full_page=True, animations="disabled")
                paths.append(path)
        finally:
            page.set_viewport_size(original)
        self.saved += paths
        assert not problems, f"{name} ({page.url}) fails the page checks:\n" + "\n".join(problems)
        return paths


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Camera:
    return Camera(request.node.name, artifacts_dir())


# ------------------------------------------------------------------------------------------ signing in


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Through the real login form; fails with the page's message when the sign-in is refused."""
    page.goto("/login")
    if urlsplit(page.url).path != "/login":
        raise AssertionError(f"someone is already signed in on this page ({page.url})")
    form = page.locator('main form[action="/login"]')
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    if urlsplit(page.url).path == "/login":
        message = page.locator("#login-error").all_inner_texts()
        raise AssertionError(f"sign-in as {username!r} was refused: {message}")


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, username, password="motcua-demo")``."""
    return sign_in


def recent_birth_form(couple: dict) -> dict:
    """The mother's birth registration for a child born a few days ago by the real clock the live server
    runs on (an older birth would be a late registration, which the form declares it is not)."""
    from tests.web.test_lifecycle_api import birth_form

    return {**birth_form(couple), "child_date_of_birth": (dt.date.today() - dt.timedelta(days=5)).isoformat()}
