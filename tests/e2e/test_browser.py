"""The web app in a real browser: Debian's chromium (headless, through Playwright) against
`camsweep serve` on a random loopback port.

One journey, as the issue tells it: a department admin uploads a register with an error and
sees it, fixes it and uploads again, confirms, and sees the dashboard change; a surveyor on
a phone records a removal with a photo; a central admin verifies the audit log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from web_estate import PASSWORD, build_estate, png_bytes

from camsweep.store import open_store

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CAMSWEEP = Path(sys.executable).parent / "camsweep"

REGISTER_HEADER = "Asset Tag,Site Code,Type,Make,Model No,MAC Address,IP,Install Date\n"
ROWS = ("A-WEB-{n},A-002,Dome cam,Hikvision,DS-2CD1023G0E-I,{mac},10.2.1.{n},01/03/2022\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{root / 'camsweep.db'}"
    store = open_store(url)
    try:
        build_estate(store, root)
    finally:
        store.dispose()
    port = free_port()
    env = {**os.environ, "CAMSWEEP_EVIDENCE_DIR": str(root / "evidence"),
           "CAMSWEEP_UPLOAD_DIR": str(root / "uploads"),
           "CAMSWEEP_DASHBOARD_CACHE_SECONDS": "5"}
    proc = subprocess.Popen([str(CAMSWEEP), "--db", url, "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"camsweep serve did not start:\n{output}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login?next=/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text(user)


def watch(page: Page, server: str, errors: list[str]) -> Page:
    """Collect script errors, failed loads and any request that leaves the server."""
    # the check of a file with errors answers 422 (as it should); anything else is a fault
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "status of 422" not in m.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: None if r.url.startswith((server, "data:"))
            else errors.append(f"request left the server: {r.url}"))
    return page


def stat(page: Page, name: str) -> int:
    return int(page.locator(f"#stat-{name}").inner_text().replace(",", ""))


def test_register_upload_removal_and_audit(server: str, browser: Browser,
                                           tmp_path: Path) -> None:
    errors: list[str] = []
    admin = watch(browser.new_page(), server, errors)
    sign_in(admin, server, "department-admin-a")
    expect(admin.locator("#chart-makers[data-drawn='1']")).to_be_visible()  # Plotly, local
    before = stat(admin, "devices")

    bad = tmp_path / "register.csv"
    bad.write_text(REGISTER_HEADER + ROWS.format(n=1, mac="not-a-mac")
                   + ROWS.format(n=2, mac=""), encoding="utf-8")
    admin.goto(f"{server}/imports")
    admin.set_input_files("#upload input[type=file]", str(bad))
    admin.click("#upload button[type=submit]")
    expect(admin.locator("#import-errors-summary")).to_contain_text("1 error")
    expect(admin.locator("#import-errors")).to_contain_text("not a MAC address")
    expect(admin.locator("#confirm")).to_have_count(0)

    bad.write_text(REGISTER_HEADER + ROWS.format(n=1, mac="44:19:b6:10:20:30")
                   + ROWS.format(n=2, mac=""), encoding="utf-8")
    admin.goto(f"{server}/imports")
    admin.set_input_files("#upload input[type=file]", str(bad))
    admin.click("#upload button[type=submit]")
    expect(admin.locator("#would")).to_contain_text("2 new")
    admin.click("#confirm button")
    expect(admin.locator(".flash")).to_contain_text("Imported register.csv: 2 new")
    admin.goto(f"{server}/")
    assert stat(admin, "devices") == before + 2
    admin.goto(f"{server}/devices?q=A-WEB")
    expect(admin.locator("#devices tbody tr")).to_have_count(2)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True)
    surveyor = watch(phone.new_page(), server, errors)
    sign_in(surveyor, server, "surveyor-a")
    surveyor.goto(f"{server}/workorders?state=scheduled")
    surveyor.locator("#workorders tbody tr").first.locator("a").first.click()
    form = surveyor.locator("#transition")
    expect(form).to_be_visible()
    assert form.bounding_box()["width"] <= 390  # type: ignore[index]
    form.locator("select[name=to_state]").select_option("removed")
    form.locator("input[type=file]").set_input_files(
        {"name": "removed.png", "mimeType": "image/png", "buffer": png_bytes()})
    form.locator("textarea[name=note]").fill("Taken down, cable capped.")
    form.locator("button[type=submit]").click()
    expect(surveyor.locator("#wo-state")).to_have_text("removed")
    expect(surveyor.locator("#events")).to_contain_text("removed.png")
    expect(surveyor.locator("#events")).to_contain_text("surveyor-a")
    phone.close()

    central = watch(browser.new_page(), server, errors)
    sign_in(central, server, "central")
    central.goto(f"{server}/audit")
    expect(central.locator("#audit")).to_contain_text("import.assets")
    central.click("#verify")
    expect(central.locator("#verify-result")).to_contain_text("Intact")
    assert not errors, errors
