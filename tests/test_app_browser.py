"""The app in a real browser (headless Debian Chromium through Playwright): upload, generate, play.

Saves a screenshot to /tmp/studio-look/app.png for a person to look at.
"""
import os
import sys
from pathlib import Path

import pytest
from PIL import Image
from studio_stubs import CountingDepth, serve_studio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/studio-look")

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_studio(tmp_path_factory.mktemp("takes"), CountingDepth())


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(server, wait_until="networkidle")
        yield page
        browser.close()


PLAYABLE = """ids => ids.map(id => {
    const v = document.querySelector(`#${id} video`);
    return v ? {ready: v.readyState, duration: v.duration, w: v.videoWidth, h: v.videoHeight} : null;
})"""


def test_upload_generate_and_play_three_takes(page, tmp_path, coffee):
    photo = tmp_path / "coffee.jpg"
    Image.fromarray(coffee).save(photo, quality=92)
    page.locator("#photo input[type=file]").set_input_files(str(photo))
    page.locator("#prompt textarea").fill("orbit around the cup, gentle")
    for slider, value in (("takes", "3"), ("duration", "1")):
        box = page.locator(f"#{slider} input[type=number]")
        box.fill(value)
        box.press("Enter")
    page.locator("#generate").click()
    ids = ["take-1", "take-2", "take-3"]
    page.wait_for_function(f"() => ({PLAYABLE})({ids!r}).every(v => v && v.ready >= 2 && v.duration > 0)",
                           timeout=90_000)
    states = page.evaluate(PLAYABLE, ids)
    assert all(s["w"] == 960 and s["h"] == 540 and 0.9 < s["duration"] < 1.2 for s in states), states
    assert not page.locator("#keep-4").is_visible()
    page.locator("#keep-2").click()
    page.wait_for_function("() => document.querySelector('#kept').innerText.includes('take2-orbit-seed1')",
                           timeout=30_000)
    assert "Orbit - gentle" in page.locator("#plan").inner_text()
    assert page.locator("#depth img").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "app.png"), full_page=True)


def test_no_photo_shows_a_clear_message(page):
    page.reload(wait_until="networkidle")
    page.locator("#generate").click()
    toast = page.get_by_text("no photo given")
    toast.first.wait_for(timeout=30_000)
    page.wait_for_timeout(1200)  # let the toast slide in before the screenshot
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "no-photo.png"))


def test_example_fills_photo_and_prompt_and_estimate(page):
    page.reload(wait_until="networkidle")
    page.get_by_role("button", name="Rocket").click()
    page.wait_for_selector("#photo img", timeout=30_000)
    assert page.locator("#prompt textarea").input_value() == app.EXAMPLE_PROMPTS[3]
    page.wait_for_function("() => document.querySelector('#plan').innerText.includes('Pedestal up')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#estimate').innerText.includes('960x540')",
                           timeout=30_000)
