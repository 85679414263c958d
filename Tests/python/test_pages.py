"""The pages in a real headless Chromium: the viewer over a 1 GiB file (first screen, a jump to
line 10,000,000, the end), hex for a binary file, a search whose hit opens at its place, and
the assets served from inside mmapd. Screenshots are kept (see browser.py) and the first-screen
time measured in the browser is printed (run with -s to see it)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from browser import screenshot_directory, start_chromium, wait_for
from mmapd_process import MmapdProcess

BIG_LINES_PER_BLOCK = 16384
BIG_BLOCKS = 1024  # 1 MiB each: 1 GiB, 16,777,216 lines of 64 bytes
NEEDLE_LINE = 12_345_678


def big_line(number: int) -> str:
    """Line `number` (1-based) of the generated file, without its newline."""
    block, line = divmod(number - 1, BIG_LINES_PER_BLOCK)
    text = f"block {block:04d} line {line:05d}: the quick brown fox jumps over the dogs."
    return text.replace("quick brown", "needle here") if number == NEEDLE_LINE else text


@pytest.fixture(scope="module")
def big_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with big.txt: 1 GiB of numbered 64-byte lines (a 1 MiB block written 1,024 times
    with its number filled in, a few seconds), one of them holding the word "needle"."""
    root = tmp_path_factory.mktemp("big") / "root"
    root.mkdir()
    template = b"".join(f"block XXXX line {line:05d}: the quick brown fox jumps over the dogs.\n".encode()
                        for line in range(BIG_LINES_PER_BLOCK))
    assert len(template) == 1 << 20
    with (root / "big.txt").open("wb") as out:
        for block in range(BIG_BLOCKS):
            out.write(template.replace(b"XXXX", b"%04d" % block))
        out.seek((NEEDLE_LINE - 1) * 64)
        out.write((big_line(NEEDLE_LINE) + "\n").encode())
    (root / "blob.bin").write_bytes(bytes(range(256)) * 64)
    (root / "notes").mkdir()
    (root / "notes" / "hello <world>.txt").write_text("hello\nworld\n")
    return root


@pytest.fixture(scope="module")
def server(big_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MmapdProcess]:
    process = MmapdProcess.start(big_root, [], log_dir=tmp_path_factory.mktemp("logs"))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots() -> Path:
    directory = screenshot_directory()
    print(f"\nscreenshots in {directory}")
    return directory


def viewer(driver: WebDriver) -> dict:
    """The viewer's state and the rows on screen, as the page shows them."""
    return driver.execute_script("""
        const main = document.getElementById('viewer');
        return {draws: Number(main.dataset.draws || 0), mode: main.dataset.mode, error: main.dataset.error || null,
                top: Number(main.dataset.top), status: main.querySelector('.status').textContent,
                rows: [...main.querySelectorAll('.rows .row')].map(row => ({
                    offset: Number(row.dataset.offset), line: row.dataset.line ? Number(row.dataset.line) : null,
                    gutter: row.querySelector('.gutter').textContent.trim(),
                    text: [...row.childNodes].slice(1).map(part => part.textContent).join(''),
                    target: row.classList.contains('target'),
                    marked: [...row.querySelectorAll('mark')].map(mark => mark.textContent)}))};
    """)


def next_screen(driver: WebDriver, after: int, what: str, condition=lambda state: True) -> dict:
    """Waits for a screen drawn after draw number `after` that satisfies `condition`."""
    def drawn(d: WebDriver):
        state = viewer(d)
        assert state["error"] is None, state["error"]
        return state if state["draws"] > after and state["rows"] and condition(state) else None
    return wait_for(driver, drawn, what)


def open_viewer(driver: WebDriver, url: str) -> dict:
    driver.get(url)
    return next_screen(driver, 0, f"the first screen of {url}")


def test_a_1_gib_file_opens_at_once_and_jumps_to_a_line_and_the_end(server, browser, shots):
    state = open_viewer(browser, f"{server.url}/view/big.txt")
    first_screen_ms = browser.execute_script(
        "return performance.getEntriesByName('mmapd-first-screen')[0].startTime")
    print(f"\nfirst screen of a 1 GiB file: {first_screen_ms:.0f} ms after navigation start")
    assert first_screen_ms < 20_000  # a sanity bound only: the machine is shared
    assert state["mode"] == "text"
    assert [row["line"] for row in state["rows"][:3]] == [1, 2, 3]
    assert state["rows"][0]["text"] == big_line(1)
    assert len(state["rows"]) >= 10
    browser.save_screenshot(str(shots / "viewer-start.png"))

    # Jump to line 10,000,000 from the line box, with the keyboard.
    box = browser.find_element(By.CSS_SELECTOR, "form.goto-line input[name=line]")
    box.send_keys("10000000", Keys.ENTER)
    state = next_screen(browser, state["draws"], "line 10,000,000",
                        lambda s: any(row["line"] == 10_000_000 for row in s["rows"]))
    target = next(row for row in state["rows"] if row["line"] == 10_000_000)
    assert target["text"] == big_line(10_000_000)
    assert target["target"] and target["offset"] == (10_000_000 - 1) * 64
    assert "line=10000000" in browser.current_url
    browser.save_screenshot(str(shots / "viewer-line-10000000.png"))

    # Scrolling down three rows with the keyboard keeps the numbering.
    browser.find_element(By.CSS_SELECTOR, ".rows").send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    top_line = state["rows"][0]["line"]
    state = next_screen(browser, state["draws"], "three rows down", lambda s: s["rows"][0]["line"] == top_line + 3)
    assert state["rows"][0]["text"] == big_line(top_line + 3)

    # The end: the last line is numbered and the screen is full.
    browser.find_element(By.CSS_SELECTOR, "button.to-end").click()
    last = BIG_LINES_PER_BLOCK * BIG_BLOCKS
    state = next_screen(browser, state["draws"], "the end", lambda s: s["rows"][-1]["line"] == last)
    assert state["rows"][-1]["text"] == big_line(last)
    assert len(state["rows"]) >= 10
    browser.save_screenshot(str(shots / "viewer-end.png"))


def test_an_offset_deep_link_opens_there_and_counts_its_line(server, browser, shots):
    line = 5_000_001
    state = open_viewer(browser, f"{server.url}/view/big.txt?offset={(line - 1) * 64 + 10}")
    # The row holding the offset is shown; its number arrives with the newline count.
    assert any(row["offset"] == (line - 1) * 64 for row in state["rows"])
    state = next_screen(browser, 0, "the counted line number", lambda s: any(row["line"] == line for row in s["rows"]))
    row = next(row for row in state["rows"] if row["line"] == line)
    assert row["text"] == big_line(line)


def test_search_finds_a_word_and_its_hit_opens_at_its_place(server, browser, shots):
    state = open_viewer(browser, f"{server.url}/view/big.txt")
    box = browser.find_element(By.CSS_SELECTOR, "form.file-search input[name=q]")
    box.send_keys("needle", Keys.ENTER)
    hit = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hits a.hit"), "a search hit")[0]
    assert hit.find_element(By.CSS_SELECTOR, "mark").text == "needle"
    assert f"line {NEEDLE_LINE}" in hit.text
    browser.save_screenshot(str(shots / "viewer-search.png"))
    draws = viewer(browser)["draws"]
    hit.click()
    state = next_screen(browser, draws, "the hit's place", lambda s: any(row["marked"] for row in s["rows"]))
    row = next(row for row in state["rows"] if row["marked"])
    assert row["line"] == NEEDLE_LINE and row["marked"] == ["needle"]
    assert row["text"] == big_line(NEEDLE_LINE)
    assert f"line={NEEDLE_LINE}" in browser.current_url
    browser.save_screenshot(str(shots / "viewer-hit.png"))


def test_a_binary_file_opens_in_hex_and_text_switches_to_hex(server, browser, shots):
    state = open_viewer(browser, f"{server.url}/view/blob.bin")
    assert state["mode"] == "hex"
    assert state["rows"][0]["gutter"] == "00000000"
    assert state["rows"][0]["text"].startswith("00 01 02 03 04 05 06 07  08 09")
    assert state["rows"][2]["text"].endswith("| !\"#$%&'()*+,-./|")
    browser.save_screenshot(str(shots / "viewer-hex.png"))

    state = open_viewer(browser, f"{server.url}/view/notes/hello%20%3Cworld%3E.txt")
    assert state["mode"] == "text" and [row["text"] for row in state["rows"]] == ["hello", "world"]
    assert browser.title.startswith("hello <world>.txt")
    browser.find_element(By.CSS_SELECTOR, "form.mode button[value=hex]").click()
    state = next_screen(browser, state["draws"], "hex", lambda s: s["mode"] == "hex")
    assert state["rows"][0]["text"].startswith("68 65 6c 6c 6f 0a 77 6f  72 6c 64 0a")
    assert "mode=hex" in browser.current_url


def test_a_page_opened_through_a_signed_link_works_and_carries_it(tmp_path, start_mmapd, browser, shots):
    """A signed link for a directory, with the route changed to /view/, opens a file's viewer
    below it on a server that needs a token: every fetch and link of the page keeps the grant,
    and the assets load without one."""
    root = tmp_path / "signed"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "app.log").write_text("".join(f"event {n} ok\n" for n in range(1, 501)))
    key = tmp_path / "signing.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    server = start_mmapd(root, "--read-token", "r3ad", "--signing-key-file", str(key))
    binary = os.environ.get("MMAPD_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/mmapd"))
    link = subprocess.run([binary, "sign", "logs/", "--signing-key-file", str(key), "--root", str(root)],
                          check=True, capture_output=True, text=True).stdout.strip()
    grant = link.split("?", 1)[1]
    state = open_viewer(browser, f"{server.url}/view/logs/app.log?{grant}")
    assert state["rows"][0]["text"] == "event 1 ok"
    browser.find_element(By.CSS_SELECTOR, "form.goto-line input[name=line]").send_keys("400", Keys.ENTER)
    state = next_screen(browser, state["draws"], "line 400", lambda s: any(row["line"] == 400 for row in s["rows"]))
    browser.find_element(By.CSS_SELECTOR, "form.file-search input[name=q]").send_keys("event 250 ", Keys.ENTER)
    hit = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hits a.hit"), "a search hit")[0]
    assert grant in hit.get_attribute("href")
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.initiatorType === 'fetch').map(e => e.name)")
    assert fetched and all(grant in url for url in fetched), fetched
    assets = browser.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/assets/')).map(e => e.name)")
    assert assets and not any("signature" in url for url in assets)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.crumb, a.raw")]
    assert links and all(grant in link for link in links)
    draws = viewer(browser)["draws"]
    hit.click()
    state = next_screen(browser, draws, "the hit", lambda s: any(row["marked"] for row in s["rows"]))
    assert next(row for row in state["rows"] if row["marked"])["line"] == 250
    # Without the grant the same page is refused, as the API is.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.url}/view/logs/app.log")
    assert refused.value.code == 401


def test_assets_come_from_the_executable_with_types_and_caching(server):
    for name, media_type in [("viewer.js", "text/javascript"), ("listing.js", "text/javascript"),
                             ("pages.js", "text/javascript"), ("mmapd.css", "text/css"), ("favicon.svg", "image/svg+xml")]:
        with urllib.request.urlopen(f"{server.url}/assets/{name}") as answer:
            body = answer.read()
            assert answer.headers["Content-Type"].startswith(media_type)
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["Cache-Control"] == "no-cache"
            etag = answer.headers["ETag"]
        source = Path(__file__).resolve().parents[2] / "Sources/Mmapd/Assets" / name
        assert body == source.read_bytes()
        versioned = f"{server.url}/assets/{name}?v={json.loads(etag)}"
        with urllib.request.urlopen(versioned) as answer:
            assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"


# ---- A person's way through, by clicking only -----------------------------------------------

def mark_navigation(driver: WebDriver) -> None:
    """Notes the time (epoch milliseconds, in the browser) before an action that loads a page."""
    driver.execute_script("sessionStorage.setItem('mmapd-t0', String(performance.timeOrigin + performance.now()))")


def since_mark(driver: WebDriver, mark: str | None = None) -> float:
    """Milliseconds from `mark_navigation` to the loaded page's `mark` (its load event when none)."""
    return driver.execute_script("""
        const t0 = Number(sessionStorage.getItem('mmapd-t0'));
        const name = arguments[0];
        const at = name ? performance.getEntriesByName(name)[0].startTime
                        : performance.getEntriesByType('navigation')[0].loadEventEnd;
        return performance.timeOrigin + at - t0;""", mark)


def watch_draws(driver: WebDriver) -> None:
    """Records when (performance.now()) each viewer screen is drawn, so an in-page step is timed
    in the browser, not by the test's polling."""
    driver.execute_script("""
        window.mmapdTimes = {draws: {}};
        const main = document.getElementById('viewer');
        new MutationObserver(() => { window.mmapdTimes.draws[main.dataset.draws] = performance.now(); })
            .observe(main, {attributes: true, attributeFilter: ['data-draws']});""")


def start_step(driver: WebDriver) -> float:
    return driver.execute_script("return performance.now()")


def draw_time(driver: WebDriver, draws: int, started: float) -> float:
    return driver.execute_script("return window.mmapdTimes.draws[arguments[0]]", str(draws)) - started


def click_link(driver: WebDriver, css: str, text: str | None = None, href_end: str | None = None) -> None:
    links = driver.find_elements(By.CSS_SELECTOR, css)
    link = next(l for l in links if (text is None or l.text == text)
                and (href_end is None or (l.get_attribute("href") or "").split("?")[0].endswith(href_end)))
    link.click()


def test_a_person_browses_from_the_root_by_clicking_links_only(server, browser, shots):
    """From `http://HOST/` (the one address typed) to every place the issue names, by clicks and
    the page's own boxes (screenshots in MMAPD_SCREENSHOTS): a directory, a file in the viewer, the first screen of a 1 GiB file, its
    line 10,000,000 and its end, a binary file in hex and back, a tree search from the listing
    whose hit opens at its line. Each step is timed in the browser and printed."""
    timings: dict[str, float] = {}
    browser.get(f"{server.url}/")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "pre.entries a"), "the root listing")
    assert browser.current_url == f"{server.url}/files/"
    timings["GET / → the root listing (redirect, page loaded)"] = browser.execute_script(
        "return performance.getEntriesByType('navigation')[0].loadEventEnd")
    entries = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "pre.entries > a:not(.view)")]
    assert entries == ["notes/", "big.txt", "blob.bin"]
    browser.save_screenshot(str(shots / "listing-root.png"))

    # Into a directory, and a file there in the viewer.
    mark_navigation(browser)
    click_link(browser, "pre.entries > a", text="notes/")
    wait_for(browser, lambda d: d.current_url.endswith("/files/notes/"), "the notes listing")
    timings["click notes/ → its listing"] = since_mark(browser)
    mark_navigation(browser)
    click_link(browser, "pre.entries a.view", href_end="/view/notes/hello%20%3Cworld%3E.txt")
    state = next_screen(browser, 0, "hello <world>.txt in the viewer")
    timings["click view → a small file's first screen"] = since_mark(browser, "mmapd-first-screen")
    assert [row["text"] for row in state["rows"]] == ["hello", "world"]

    # Back to the root by the breadcrumb, then the 1 GiB file.
    click_link(browser, "nav.breadcrumbs a.crumb", text="files")
    wait_for(browser, lambda d: d.current_url == f"{server.url}/files/", "the root listing again")
    mark_navigation(browser)
    click_link(browser, "pre.entries a.view", href_end="/view/big.txt")
    state = next_screen(browser, 0, "the first screen of big.txt")
    timings["click view → the first screen of a 1 GiB file"] = since_mark(browser, "mmapd-first-screen")
    assert state["rows"][0]["text"] == big_line(1) and state["rows"][0]["line"] == 1
    browser.save_screenshot(str(shots / "click-big-first-screen.png"))

    watch_draws(browser)
    started = start_step(browser)
    browser.find_element(By.CSS_SELECTOR, "form.goto-line input[name=line]").send_keys("10000000", Keys.ENTER)
    state = next_screen(browser, state["draws"], "line 10,000,000", lambda s: any(r["line"] == 10_000_000 for r in s["rows"]))
    timings["line box 10000000 → its screen"] = draw_time(browser, state["draws"], started)
    assert next(r for r in state["rows"] if r["line"] == 10_000_000)["text"] == big_line(10_000_000)
    browser.save_screenshot(str(shots / "click-big-line-10000000.png"))

    started = start_step(browser)
    browser.find_element(By.CSS_SELECTOR, "button.to-end").click()
    last = BIG_LINES_PER_BLOCK * BIG_BLOCKS
    state = next_screen(browser, state["draws"], "the end", lambda s: s["rows"][-1]["line"] == last)
    timings["End → the last screen, numbered"] = draw_time(browser, state["draws"], started)
    browser.save_screenshot(str(shots / "click-big-end.png"))

    # A binary file: it opens in hex; Text and Hex switch it.
    click_link(browser, "nav.breadcrumbs a.crumb", text="files")
    wait_for(browser, lambda d: d.current_url == f"{server.url}/files/", "the root listing again")
    mark_navigation(browser)
    click_link(browser, "pre.entries a.view", href_end="/view/blob.bin")
    state = next_screen(browser, 0, "blob.bin", lambda s: s["mode"] == "hex")
    timings["click view → a binary file, in hex"] = since_mark(browser, "mmapd-first-screen")
    watch_draws(browser)
    browser.find_element(By.CSS_SELECTOR, "form.mode button[value=text]").click()
    state = next_screen(browser, state["draws"], "blob.bin as text", lambda s: s["mode"] == "text")
    started = start_step(browser)
    browser.find_element(By.CSS_SELECTOR, "form.mode button[value=hex]").click()
    state = next_screen(browser, state["draws"], "blob.bin in hex again", lambda s: s["mode"] == "hex")
    timings["Hex → the binary file switched back to hex"] = draw_time(browser, state["draws"], started)
    assert state["rows"][0]["text"].startswith("00 01 02 03 04 05 06 07  08 09")
    browser.save_screenshot(str(shots / "click-blob-hex.png"))

    # The listing's search box searches the tree; its hit opens the viewer at the match.
    click_link(browser, "nav.breadcrumbs a.crumb", text="files")
    wait_for(browser, lambda d: d.current_url == f"{server.url}/files/", "the root listing again")
    browser.execute_script("window.mmapdHits = null; new MutationObserver(() => { if (window.mmapdHits === null && "
                           "document.querySelector('.hits a.hit')) window.mmapdHits = performance.now(); })"
                           ".observe(document.body, {childList: true, subtree: true});")
    started = start_step(browser)
    browser.find_element(By.CSS_SELECTOR, "form.tree-search input[name=q]").send_keys("needle", Keys.ENTER)
    hit = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hits a.hit"), "a tree search hit")[0]
    timings["listing search 'needle' → hits (tree search over 1 GiB)"] = browser.execute_script("return window.mmapdHits") - started
    assert hit.text.startswith(f"big.txt:{NEEDLE_LINE}") and hit.find_element(By.CSS_SELECTOR, "mark").text == "needle"
    browser.save_screenshot(str(shots / "listing-search.png"))
    mark_navigation(browser)
    hit.click()
    state = next_screen(browser, 0, "the hit's place", lambda s: any(r["marked"] for r in s["rows"]))
    timings["click the hit → the viewer at the match"] = since_mark(browser, "mmapd-first-screen")
    row = next(r for r in state["rows"] if r["marked"])
    assert row["line"] == NEEDLE_LINE and row["marked"] == ["needle"]
    browser.save_screenshot(str(shots / "listing-hit.png"))

    print("\nbrowser timings (ms, measured in Chromium):")
    for step, milliseconds in timings.items():
        print(f"  {milliseconds:8.1f}  {step}")
    assert all(0 <= milliseconds < 60_000 for milliseconds in timings.values()), timings
