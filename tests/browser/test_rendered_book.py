"""The built book, as a reader's browser shows it, with no network.

Run by `make test` after the strict book build (`make test-browser`); skipped, with
the reason printed, when _build/html, a Chromium binary or the Playwright package is
missing.

How: a loopback-only HTTP server (127.0.0.1, ephemeral port, this process) serves
_build/html. Playwright for Python drives the system's Chromium (``executable_path``:
no browser is downloaded). Every request the browser makes is seen by a route
handler: requests to the local server go through, anything else is recorded and
aborted, so the book is checked as it behaves offline. For each page the test waits
explicitly for what it checks, never for a fixed time:

* the ``load`` event, and, for the root ``index.html`` (a ``<meta http-equiv=refresh>``
  redirect), the page it lands on;
* MathJax's ``startup.promise``, which resolves when MathJax has finished typesetting
  the page (or rejects with the error);
* ``img.decode()`` of every image.

Then, on every page (index.html and everything under book/):

* MathJax 3 is the local copy (served from this server), it ran, typeset every math
  block, reported no TeX error (``merror``, or an undefined macro, which MathJax shows
  in red), and no raw TeX is left in the visible text (``$$``, ``\\begin{``, ``\\[``,
  ``\\(``) outside code and scripts;
* every ``<img>`` really loaded (decoded, natural width > 0);
* nothing was requested from outside the book, and nothing requested is missing;
* every relative link in the sidebar navigation points at a file that exists.

Screenshots of the same pages opened straight from disk (file://, as a student opens
_build/html/index.html) are saved as _build/screenshot-<page>.png, after checking that
MathJax typeset there too. ``test_checks_fail_on_broken_pages`` builds a page with a
broken equation and one with a missing image in a temporary folder and shows that the
same checks reject them.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
# Pages that must exist, be checked and be photographed (name -> path in _build/html).
SHOTS = {
    "index": "index.html",
    "02_elman_rnn": "book/part1/02_elman_rnn.html",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Quiet, offline, root-friendly headless Chromium.
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
]
TIMEOUT_MS = 60_000  # the longest any single wait may take before the test fails

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

# Runs in the page after it loaded: waits for MathJax and the images, then reports.
CHECK_JS = """
async () => {
  const r = {errors: []};
  const mjScript = [...document.querySelectorAll("script[src]")].find((s) => /mathjax/i.test(s.src));
  r.mathjax_src = mjScript ? mjScript.src : null;
  r.math_sources = document.querySelectorAll(".math").length;
  if (r.mathjax_src) {
    // MathJax is loaded with `async`: wait until its startup object exists, then for
    // the promise that resolves once the page is typeset.
    const t0 = Date.now();
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      if (Date.now() - t0 > %(timeout)d) { r.errors.push("MathJax never started"); break; }
      await new Promise((ok) => setTimeout(ok, 25));
    }
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      try { await MathJax.startup.promise; } catch (e) { r.errors.push("MathJax: " + e); }
    }
  }
  r.mathjax_version = (window.MathJax && MathJax.version) || null;
  r.mjx_containers = document.querySelectorAll("mjx-container").length;
  r.mjx_errors = [];
  if (window.MathJax && MathJax.startup && MathJax.startup.document) {
    for (const item of MathJax.startup.document.math) {
      const mml = MathJax.startup.toMML ? MathJax.startup.toMML(item.root) : "";
      if (/<merror|mathcolor="red"/.test(mml)) r.mjx_errors.push(item.math.slice(0, 120));
    }
  }
  r.mjx_errors = r.mjx_errors.concat(
    [...document.querySelectorAll("mjx-merror")].map((e) => e.textContent)).slice(0, 10);
  // Visible text outside code, scripts and typeset math that still looks like TeX.
  const skip = new Set(["SCRIPT", "STYLE", "CODE", "PRE", "NOSCRIPT", "TEMPLATE",
                        "TEXTAREA", "MJX-CONTAINER"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    let p = n.parentElement, skipped = false;
    for (; p; p = p.parentElement) { if (skip.has(p.tagName)) { skipped = true; break; } }
    if (!skipped && /\\$\\$|\\\\begin\\{|\\\\\\[|\\\\\\(/.test(n.textContent)) {
      raw.push(n.textContent.trim().slice(0, 120));
    }
  }
  r.raw_tex = raw.slice(0, 10);
  const imgs = [...document.images];
  imgs.forEach((i) => { i.loading = "eager"; });
  const decoded = await Promise.allSettled(imgs.map((i) => i.decode()));
  r.images = imgs.map((img, k) => ({
    src: img.currentSrc || img.src,
    ok: decoded[k].status === "fulfilled" && img.complete && img.naturalWidth > 0,
  }));
  const navLinks = document.querySelectorAll(
    "nav a[href], .bd-sidenav a[href], .bd-sidebar-primary a[href]");
  r.nav_links = [...new Set([...navLinks].map((a) => a.getAttribute("href")))];
  r.page_url = location.href;
  return r;
}
""" % {"timeout": TIMEOUT_MS}


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _pages() -> list[str]:
    """index.html, the pages above, and every page built from book/."""
    found = {p.relative_to(HTML).as_posix() for p in (HTML / "book").rglob("*.html")}
    return sorted(set(SHOTS.values()) | found, key=lambda p: (p != "index.html", p))


BROWSER = _browser()
PAGES = _pages() if (HTML / "index.html").is_file() else []
pytestmark = [
    pytest.mark.skipif(
        not (HTML / "index.html").is_file(),
        reason=f"no built book at {HTML.relative_to(ROOT)}/index.html: run `make book` first",
    ),
    pytest.mark.skipif(
        BROWSER is None,
        reason="no Chromium/Chrome binary found (tried: " + ", ".join(BROWSERS)
        + "); install one, e.g. `apt-get install -y chromium`",
    ),
    pytest.mark.skipif(
        sync_playwright is None,
        reason="the Python package `playwright` is not installed (it is in the `test` extra)",
    ),
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output quiet
        pass


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


class Browser:
    """One headless Chromium; ``check(url)`` loads a page and returns its report."""

    def __init__(self, playwright, allowed_prefixes):
        self.allowed = tuple(allowed_prefixes)
        self.browser = playwright.chromium.launch(
            executable_path=BROWSER, headless=True, args=CHROME_ARGS, timeout=TIMEOUT_MS)
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 2000})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allowed) or url.startswith(("data:", "blob:", "about:")):
            self.requests.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _open(self, url: str, redirect: str | None):
        page = self.context.new_page()
        if redirect:
            # The root index.html of a Jupyter Book is a <meta http-equiv=refresh> to the
            # first page: wait until the browser has followed it and loaded the target.
            page.goto(url, wait_until="commit")
            page.wait_for_url(redirect, wait_until="load")
        else:
            page.goto(url, wait_until="load")
        return page

    def check(self, url: str, redirect: str | None = None) -> dict:
        self.requests, self.blocked = [], []
        page = self._open(url, redirect)
        try:
            report = page.evaluate(CHECK_JS)
            report["requests"] = list(self.requests)
            report["blocked"] = list(self.blocked)
            return report
        finally:
            page.close()

    def screenshot(self, url: str, path: Path, redirect: str | None = None) -> dict:
        page = self._open(url, redirect)
        try:
            report = page.evaluate(CHECK_JS)
            page.screenshot(path=str(path))
            return report
        finally:
            page.close()

    def close(self):
        self.context.close()
        self.browser.close()


def redirect_target(path: Path, url: str) -> str | None:
    """Where a page's ``<meta http-equiv="refresh" content="0; url=...">`` leads (absolute)."""
    m = re.search(r'<meta[^>]+http-equiv="refresh"[^>]+url=([^"\'>]+)', path.read_text(), re.I)
    return urljoin(url, m.group(1).strip()) if m else None


def _local_file(url: str, server: str, root: Path) -> Path | None:
    """The file under ``root`` that a same-server URL names (None: not local)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != server:
        return None
    path = unquote(parts.path)
    target = root / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    return target


def problems(r: dict, server: str, root: Path = HTML) -> dict[str, list[str]]:
    """What is wrong with a page's report, by check (an empty list: that check passed)."""
    out: dict[str, list[str]] = {"mathjax": [], "images": [], "network": [], "links": []}
    math = out["mathjax"]
    if r["math_sources"] or r["mathjax_src"]:
        if not (r["mathjax_src"] or "").startswith(server + "/_static/mathjax/"):
            math.append(f"MathJax is not the local copy: {r['mathjax_src']}")
        if not (r["mathjax_version"] or "").startswith("3."):
            math.append(f"MathJax 3 did not start (version {r['mathjax_version']})")
        math += r["errors"]
        if r["mjx_containers"] < r["math_sources"]:
            math.append(f"{r['math_sources']} math blocks, {r['mjx_containers']} typeset")
        math += [f"TeX error in: {m}" for m in r["mjx_errors"]]
        math += [f"raw TeX left in the text: {t}" for t in r["raw_tex"]]
    out["images"] = [f"image did not load: {i['src']}" for i in r["images"] if not i["ok"]]
    out["network"] = [f"fetched from outside the book: {u}" for u in r["blocked"]]
    out["network"] += [
        f"requested but missing from the build: {u}" for u in r["requests"]
        if (f := _local_file(u, server, root)) is not None and not f.exists()
    ]
    if not r["nav_links"]:
        out["links"].append("no navigation links found")
    for href in r["nav_links"]:
        if urlsplit(href).scheme or href.startswith(("#", "//", "mailto:")):
            continue  # external, protocol-relative or same-page
        target = _local_file(urljoin(r["page_url"], href), server, root)
        if target is None or not target.is_file():
            out["links"].append(f"sidebar link to a missing file: {href}")
    return out


@pytest.fixture(scope="module")
def playwright_instance():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def server():
    httpd, url = _serve(HTML)
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def reports(playwright_instance, server) -> dict[str, dict]:
    """One Chromium over every page: page path -> (report, its problems)."""
    browser = Browser(playwright_instance, [server + "/"])
    try:
        out = {}
        for page in PAGES:
            try:
                url = f"{server}/{page}"
                r = browser.check(url, redirect_target(HTML / page, url))
                out[page] = {"report": r, "problems": problems(r, server)}
            except Exception as e:  # a page that cannot be loaded fails its own tests
                out[page] = {"fatal": f"{type(e).__name__}: {e}"}
        return out
    finally:
        browser.close()


def _problems(reports: dict, page: str, check: str) -> list[str]:
    assert page in reports, f"{page}: the browser did not check it"
    entry = reports[page]
    assert "fatal" not in entry, f"{page}: could not be checked: {entry['fatal']}"
    return entry["problems"][check]


def test_required_pages_were_built():
    missing = [p for p in SHOTS.values() if not (HTML / p).is_file()]
    assert not missing, f"pages missing from {HTML}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_mathjax_is_local_and_typeset(page, reports):
    found = _problems(reports, page, "mathjax")
    assert not found, f"{page}: {found}"


def test_chapter_page_has_equations(reports):
    r = reports[SHOTS["02_elman_rnn"]]["report"]
    assert r["mjx_containers"] > 0, "the Elman chapter shows no typeset equation"


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loaded(page, reports):
    found = _problems(reports, page, "images")
    assert not found, f"{page}: {found}"


@pytest.mark.parametrize("page", PAGES)
def test_page_fetched_nothing_from_the_network(page, reports):
    found = _problems(reports, page, "network")
    assert not found, f"{page}: {found}"


@pytest.mark.parametrize("page", PAGES)
def test_sidebar_links_resolve(page, reports):
    found = _problems(reports, page, "links")
    assert not found, f"{page}: {found}"


@pytest.mark.parametrize("name", SHOTS)
def test_screenshot_from_disk(name, playwright_instance):
    """Open the page from disk as a reader would; MathJax must typeset there too."""
    url = (HTML / SHOTS[name]).as_uri()
    shot = ROOT / "_build" / f"screenshot-{name}.png"
    shot.unlink(missing_ok=True)
    browser = Browser(playwright_instance, ["file://"])
    try:
        r = browser.screenshot(url, shot, redirect_target(HTML / SHOTS[name], url))
    finally:
        browser.close()
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot written for {name}"
    if r["math_sources"]:
        assert r["mjx_containers"] >= r["math_sources"] and not r["mjx_errors"], (
            f"{name}: MathJax did not typeset under file:// ({r['mjx_containers']} of "
            f"{r['math_sources']}, errors {r['mjx_errors']})")
    print(f"screenshot: {shot.relative_to(ROOT)}")


def test_checks_fail_on_broken_pages(tmp_path, playwright_instance):
    """The same checks reject a page with a broken equation and one with a missing image."""
    chapter = HTML / SHOTS["02_elman_rnn"]
    site = tmp_path / "site"
    (site / "book" / "part1").mkdir(parents=True)
    (site / "_static").symlink_to(HTML / "_static", target_is_directory=True)
    for sub in ("_images", "_sphinx_design_static"):
        if (HTML / sub).is_dir():
            (site / sub).symlink_to(HTML / sub, target_is_directory=True)
    original = chapter.read_text()
    assert "</article>" in original, "the chapter page has no <article> to add content to"
    bad_math = original.replace(
        "</article>",
        '<div class="math notranslate nohighlight">\\[ \\frac{1}{\\notamacro{x}} \\]</div></article>', 1)
    bad_image = original.replace(
        "</article>", '<img src="../../_images/no-such-figure.png" alt="missing"></article>', 1)
    (site / "book" / "part1" / "bad_math.html").write_text(bad_math)
    (site / "book" / "part1" / "bad_image.html").write_text(bad_image)
    httpd, url = _serve(site)
    browser = Browser(playwright_instance, [url + "/"])
    try:
        found_math = problems(browser.check(f"{url}/book/part1/bad_math.html"), url, site)
        found_image = problems(browser.check(f"{url}/book/part1/bad_image.html"), url, site)
    finally:
        browser.close()
        httpd.shutdown()
        httpd.server_close()
    assert any("notamacro" in p for p in found_math["mathjax"]), found_math
    assert not found_math["images"], found_math
    assert any("no-such-figure.png" in p for p in found_image["images"]), found_image
    assert any("no-such-figure.png" in p for p in found_image["network"]), found_image
    assert not found_image["mathjax"], found_image
