"""The built book, as a reader's browser shows it, with no network.

Run by `make test` after the strict book build (`make test-browser`); skipped, with
the reason printed, when _build/html or a Chromium binary is missing.

How: a loopback-only HTTP server (127.0.0.1, ephemeral port, this process) serves
_build/html plus one in-memory harness page. Headless Chromium (subprocess, no
driver library) opens the harness, which loads every page of the book in turn in a
same-origin iframe, waits for MathJax's startup promise and for every image to
decode, and writes a JSON report into its own DOM; `--dump-dom` hands that report
back (one browser start for the whole book). Checked on every page (index.html and
everything under book/), and in particular on index.html and the Elman chapter:

* MathJax 3 is the local copy (served from this server), it ran, typeset every
  math block, reported no TeX error (`merror`, or an undefined macro, which MathJax
  shows in red), and no raw TeX is left in the visible text (`$$`, `\\begin{`,
  `\\[`, `\\(`) outside code and scripts;
* every `<img>` really loaded (`img.decode()` resolved, natural width > 0);
* every resource the page fetched came from the local server (the book works offline);
* every relative link in the sidebar navigation points at a file that exists.
(index.html of a Jupyter Book only redirects to the root page: the harness follows
the redirect and checks the page it lands on.)

Screenshots of the same pages opened straight from disk (file://, as a student
opens _build/html/index.html) are saved as _build/screenshot-<page>.png, after
checking that MathJax typeset there too.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urlencode, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
# Pages that must exist, be checked and be photographed (name -> path in _build/html).
SHOTS = {
    "index": "index.html",
    "02_elman_rnn": "book/part1/02_elman_rnn.html",
}
HARNESS = "/__browser_check__.html"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Quiet, offline, root-friendly headless Chromium.
CHROME_FLAGS = [
    "--headless=new",
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

HARNESS_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>browser check</title></head>
<body><pre id="report">PENDING</pre>
<iframe id="page" style="width:1280px;height:2000px"></iframe>
<script>
const report = document.getElementById("report");
const done = (r) => { report.textContent = "REPORT:" + JSON.stringify(r); };
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
async function check(frame) {
  const w = frame.contentWindow, d = frame.contentDocument;
  const r = {url: w.location.href, errors: []};
  // MathJax: loaded, local, finished typesetting.
  const mjScript = [...d.querySelectorAll("script[src]")].find((s) => /mathjax/i.test(s.src));
  r.mathjax_src = mjScript ? mjScript.src : null;
  for (let i = 0; i < 200 && !(w.MathJax && w.MathJax.startup && w.MathJax.startup.promise); i++) {
    await sleep(50);
  }
  if (w.MathJax && w.MathJax.startup && w.MathJax.startup.promise) {
    try { await w.MathJax.startup.promise; } catch (e) { r.errors.push("MathJax: " + e); }
    r.mathjax_version = w.MathJax.version || null;
  } else {
    r.mathjax_version = null;
  }
  r.mjx_containers = d.querySelectorAll("mjx-container").length;
  // TeX errors: <merror>, or an undefined macro (MathJax's noundefined extension
  // shows it as red text); read from the internal MathML of every typeset item.
  r.mjx_errors = [];
  if (w.MathJax && w.MathJax.startup && w.MathJax.startup.document) {
    for (const item of w.MathJax.startup.document.math) {
      const mml = w.MathJax.startup.toMML ? w.MathJax.startup.toMML(item.root) : "";
      if (/<merror|mathcolor="red"/.test(mml)) r.mjx_errors.push(item.math.slice(0, 120));
    }
  }
  r.mjx_errors = r.mjx_errors.concat(
    [...d.querySelectorAll("mjx-merror")].map((e) => e.textContent)).slice(0, 10);
  r.math_sources = d.querySelectorAll(".math").length;
  // Visible text outside code, scripts and typeset math.
  const skip = new Set(["SCRIPT", "STYLE", "CODE", "PRE", "NOSCRIPT", "TEMPLATE",
                        "TEXTAREA", "MJX-CONTAINER"]);
  const walker = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    let p = n.parentElement, skipped = false;
    for (; p; p = p.parentElement) { if (skip.has(p.tagName)) { skipped = true; break; } }
    if (!skipped && /\\$\\$|\\\\begin\\{|\\\\\\[|\\\\\\(/.test(n.textContent)) {
      raw.push(n.textContent.trim().slice(0, 120));
    }
  }
  r.raw_tex = raw.slice(0, 10);
  // Images: force eager loading, then wait for each to decode.
  const imgs = [...d.images];
  imgs.forEach((i) => { i.loading = "eager"; });
  const decoded = await Promise.allSettled(imgs.map((i) => i.decode()));
  r.images = imgs.map((img, k) => ({
    src: img.currentSrc || img.src,
    ok: decoded[k].status === "fulfilled" && img.complete && img.naturalWidth > 0,
  }));
  // Sidebar / navigation links, resolved to absolute URLs.
  const navLinks = d.querySelectorAll("nav a[href], .bd-sidenav a[href], .bd-sidebar-primary a[href]");
  r.nav_links = [...new Set([...navLinks].map((a) => a.getAttribute("href")))];
  r.page_url = w.location.href;
  // Every resource the page fetched.
  r.resources = w.performance.getEntriesByType("resource").map((e) => e.name);
  return r;
}
(async () => {
  const results = [];
  try {
    const pages = JSON.parse(new URLSearchParams(location.search).get("pages"));
    const frame = document.getElementById("page");
    for (const target of pages) {
      try {
        await new Promise((ok, bad) => { frame.onload = ok; frame.onerror = bad; frame.src = target; });
        // index.html of a Jupyter Book is a <meta http-equiv="refresh"> to the root page.
        for (let hops = 0; hops < 3 && frame.contentDocument.querySelector('meta[http-equiv="refresh" i]'); hops++) {
          await new Promise((ok) => { frame.onload = ok; setTimeout(ok, 10000); });
        }
        const r = await check(frame);
        r.requested = target;
        results.push(r);
      } catch (e) {
        results.push({requested: target, fatal: String(e)});
      }
    }
    done(results);
  } catch (e) {
    done([{fatal: String(e)}]);
  }
})();
</script></body></html>
"""


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _pages() -> list[str]:
    """index.html, the two pages above, and every page built from book/."""
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
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        if urlsplit(self.path).path == HARNESS:
            body = HARNESS_HTML.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):  # keep pytest output quiet
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_Handler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _chromium(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="labrnn-chromium-") as profile:
        cmd = [BROWSER, *CHROME_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "HOME": profile},
        )


def _local_file(url: str, server: str) -> Path | None:
    """The file under _build/html that a same-server URL names (None: not local)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != server:
        return None
    path = unquote(parts.path)
    target = HTML / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    return target


@pytest.fixture(scope="module")
def reports(server) -> dict[str, dict]:
    """One headless Chromium run over every page: page path -> the harness's report."""
    query = urlencode({"pages": json.dumps([f"/{p}" for p in PAGES])})
    # Virtual time runs only while the page is idle (waiting on timers), so a
    # generous budget costs nothing when pages are quick.
    budget = 20_000 * len(PAGES)
    proc = _chromium(f"--virtual-time-budget={budget}", "--dump-dom",
                     f"{server}{HARNESS}?{query}")
    m = re.search(r"REPORT:(\[.*?\])</pre>", proc.stdout, re.S)
    assert m, (
        f"the browser produced no report (exit {proc.returncode}).\n"
        f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    )
    results = json.loads(html.unescape(m.group(1)))
    assert results and "requested" in results[0], f"the harness failed: {results}"
    return {r["requested"].lstrip("/"): r for r in results}


def _get(reports: dict, page: str) -> dict:
    assert page in reports, f"{page}: the browser did not check it"
    r = reports[page]
    assert "fatal" not in r, f"{page}: could not be checked: {r['fatal']}"
    return r


def test_required_pages_were_built():
    missing = [p for p in SHOTS.values() if not (HTML / p).is_file()]
    assert not missing, f"pages missing from {HTML}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_mathjax_is_local_and_typeset(page, reports, server):
    r = _get(reports, page)
    if not r["math_sources"] and not r["mathjax_src"]:
        return  # Sphinx loads MathJax only on pages with math
    assert r["mathjax_src"] and r["mathjax_src"].startswith(server + "/_static/mathjax/"), (
        f"{page}: MathJax is not the local copy: {r['mathjax_src']}"
    )
    assert r["mathjax_version"] and r["mathjax_version"].startswith("3."), (
        f"{page}: MathJax 3 did not start (version: {r['mathjax_version']}, errors: {r['errors']})"
    )
    assert not r["errors"], f"{page}: {r['errors']}"
    if r["math_sources"]:
        assert r["mjx_containers"] >= r["math_sources"], (
            f"{page}: {r['math_sources']} math blocks, {r['mjx_containers']} typeset"
        )
    assert not r["mjx_errors"], f"{page}: MathJax reported TeX errors in: {r['mjx_errors']}"
    assert not r["raw_tex"], f"{page}: raw TeX left in the visible text: {r['raw_tex']}"


def test_chapter_page_has_equations(reports):
    r = _get(reports, SHOTS["02_elman_rnn"])
    assert r["mjx_containers"] > 0, "the Elman chapter shows no typeset equation"


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loaded(page, reports):
    broken = [i["src"] for i in _get(reports, page)["images"] if not i["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_page_fetched_nothing_from_the_network(page, reports, server):
    resources = _get(reports, page)["resources"]
    remote = [u for u in resources if not u.startswith((server + "/", "data:", "blob:", "about:"))]
    assert not remote, f"{page}: resources fetched from outside the book: {remote}"
    missing = [
        u for u in resources if (f := _local_file(u, server)) is not None and not f.is_file()
    ]
    assert not missing, f"{page}: resources requested but missing from the build: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_sidebar_links_resolve(page, reports, server):
    r = _get(reports, page)
    assert r["nav_links"], f"{page}: no navigation links found"
    broken = []
    for href in r["nav_links"]:
        if urlsplit(href).scheme or href.startswith(("#", "//", "mailto:")):
            continue  # external, protocol-relative or same-page
        target = _local_file(urljoin(r["page_url"], href), server)
        if target is None or not target.is_file():
            broken.append(href)
    assert not broken, f"{page}: sidebar links to missing files: {broken}"


@pytest.mark.parametrize("name", SHOTS)
def test_screenshot_from_disk(name):
    """Open the page from disk as a reader would; MathJax must typeset there too."""
    url = (HTML / SHOTS[name]).as_uri()
    shot = ROOT / "_build" / f"screenshot-{name}.png"
    shot.unlink(missing_ok=True)
    proc = _chromium("--virtual-time-budget=15000", "--window-size=1280,2000",
                     f"--screenshot={shot}", url)
    assert shot.is_file() and shot.stat().st_size > 10_000, (
        f"no screenshot written for {name}: {proc.stderr[-2000:]}"
    )
    dom = _chromium("--virtual-time-budget=15000", "--dump-dom", url).stdout
    if 'class="math' in dom:
        assert "<mjx-container" in dom, f"{name}: MathJax did not typeset under file://"
    print(f"screenshot: {shot.relative_to(ROOT)}")
