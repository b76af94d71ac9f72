"""The app in a real browser (headless Debian Chromium through Playwright): upload, generate, play, keep,
finish; the engine selector.

Saves screenshots to /tmp/studio-look/ (app.png, finish.png, ...) for a person to look at.
"""
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from studio_stubs import CountingDepth, decode, serve_studio

from pipelines import studio as studio_api
from pipelines.ui import blocks

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/studio-look")

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_studio(tmp_path_factory.mktemp("takes"), CountingDepth())


def ready(page) -> None:
    """Wait until the app has rendered and run its load event (the estimate). Not "networkidle": the page
    holds Gradio's heartbeat stream open (the app keeps per-session state), so the network never idles."""
    page.wait_for_selector("#generate", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#estimate')?.innerText.includes('Estimated')",
                           timeout=60_000)


def reload(page) -> None:
    page.reload(wait_until="load")
    ready(page)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(server, wait_until="load")
        ready(page)
        yield page
        browser.close()


PLAYABLE = """ids => ids.map(id => {
    const v = document.querySelector(`#${id} video`);
    return v ? {ready: v.readyState, duration: v.duration, w: v.videoWidth, h: v.videoHeight, src: v.src} : null;
})"""


def wait_playable(page, ids, timeout=90_000, not_src=None):
    """Wait until the videos in ``ids`` can play (and, with ``not_src``, show a new file); their states."""
    page.wait_for_function(
        "([ids, old]) => (" + PLAYABLE + ")(ids).every(v => v && v.ready >= 2 && v.duration > 0 && v.src !== old)",
        arg=[ids, not_src], timeout=timeout)
    return page.evaluate(PLAYABLE, ids)


def generate_takes(page, folder: Path, photo_pixels: np.ndarray, takes: int) -> list[dict]:
    """Upload the photo, ask for ``takes`` 1 s takes of an orbit, Generate; the takes' video states."""
    photo = folder / "coffee.jpg"
    Image.fromarray(photo_pixels).save(photo, quality=92)
    page.locator("#photo input[type=file]").set_input_files(str(photo))
    page.locator("#prompt textarea").fill("orbit around the cup, gentle")
    for slider, value in (("takes", str(takes)), ("duration", "1")):
        box = page.locator(f"#{slider} input[type=number]")
        box.fill(value)
        box.press("Enter")
    page.locator("#generate").click()
    return wait_playable(page, [f"take-{i + 1}" for i in range(takes)])


def choose(page, dropdown: str, option: str) -> None:
    """Pick ``option`` (its label, exactly) in the Gradio dropdown with elem_id ``dropdown``."""
    page.locator(f"#{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_upload_generate_and_play_three_takes(page, tmp_path, coffee):
    reload(page)
    states = generate_takes(page, tmp_path, coffee, 3)
    assert all(s["w"] == 960 and s["h"] == 540 and 0.9 < s["duration"] < 1.2 for s in states), states
    assert not page.locator("#keep-4").is_visible()
    page.locator("#keep-2").click()
    page.wait_for_function("() => document.querySelector('#kept').innerText.includes('take2-orbit-seed1')",
                           timeout=30_000)
    assert "Orbit - gentle" in page.locator("#plan").inner_text()
    assert page.locator("#depth img").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "app.png"), full_page=True)


def test_keep_then_finish_with_caption_9x16_and_sea(page, tmp_path, coffee):
    reload(page)
    generate_takes(page, tmp_path, coffee, 2)
    panel = page.locator("#finish [data-testid=accordion-content]")
    assert not panel.is_visible()  # closed until a take is kept
    page.locator("#keep-2").click()
    panel.wait_for(state="visible", timeout=30_000)
    take = page.locator("#finish-take input")
    page.wait_for_function("() => document.querySelector('#finish-take input')?.value.startsWith('take2-')",
                           timeout=30_000)
    name = take.input_value()
    assert name.startswith("take2-orbit-seed1-") and name.endswith(".mp4"), name
    assert name in page.locator("#kept").inner_text().replace("\n", "")  # the file that was kept

    page.locator("#finish-caption textarea").fill("Golden hour")
    page.locator("#finish-aspect").get_by_label("9:16", exact=True).check()
    choose(page, "finish-sound", "sea")
    assert page.locator("#finish-sound input").input_value() == "sea"
    page.locator("#finish-button").click()
    (state,) = wait_playable(page, ["finished"], timeout=120_000)
    w, h = state["w"], state["h"]
    assert h == 540 and w % 2 == 0 and abs(w - h * 9 / 16) <= 2, state  # 9:16 of the 960x540 take, even sides
    page.wait_for_function("() => document.querySelector('#finish-status').innerText.includes('Finished')",
                           timeout=30_000)
    status = page.locator("#finish-status").inner_text()
    assert f"Finished {Path(name).stem}-9x16-none.mp4" in status, status
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "finish.png"), full_page=True)

    # The same take finished again without a caption: the difference is the caption, in the bottom quarter.
    captioned = download(page, state["src"], tmp_path / "captioned.mp4")
    page.locator("#finish-caption textarea").fill("")
    page.locator("#finish-button").click()
    (plain_state,) = wait_playable(page, ["finished"], timeout=120_000, not_src=state["src"])
    plain = download(page, plain_state["src"], tmp_path / "plain.mp4")
    assert captioned.shape == plain.shape and captioned.shape[1:] == (h, w, 3), (captioned.shape, plain.shape)
    k = len(captioned) // 2  # 0.5 s: the 0.5 s fade-in is over, the fade-out not begun
    Image.fromarray(np.concatenate([captioned[k], plain[k]], axis=1)).save(SHOTS / "finish-frame.png")
    changed = np.abs(captioned[k].astype(int) - plain[k].astype(int)).max(axis=2) > 60
    # Near-white only with the caption: white there, and clearly darker without it (two encodes of one
    # frame differ by a few levels, which flips pixels of a bright photo across any single threshold).
    white = (captioned[k] >= 235).all(axis=2) & ~(plain[k] >= 225).all(axis=2)
    q = h // 4
    assert changed[-q:].sum() > 500 and white[-q:].sum() > 100, (changed[-q:].sum(), white[-q:].sum())
    assert changed[: 2 * q].sum() < 20 and white[: 2 * q].sum() < 10, (changed[: 2 * q].sum(), white[: 2 * q].sum())
    rows = np.flatnonzero(white.any(axis=1))
    assert rows.min() > h * 0.75, rows  # the caption sits at the bottom
    first = np.abs(captioned[0].astype(int) - plain[0].astype(int)).max(axis=2) > 60
    assert first.sum() < 20, first.sum()  # frame 0: the caption has not faded in yet (coding noise only)


def download(page, url: str, path: Path) -> np.ndarray:
    """Fetch a file the page shows (through the browser's session) and decode its frames."""
    response = page.request.get(url)
    assert response.ok, (url, response.status)
    path.write_bytes(response.body())
    return decode(path)


def test_engine_selector_explains_gpu_engines_and_shows_negative_prompt(page, monkeypatch):
    from pipelines.generative import engine as generative

    monkeypatch.setattr(generative, "default_device", lambda: "cpu")  # as on a machine without a GPU
    reload(page)
    negative = page.locator("#negative-prompt")
    assert not negative.is_visible()
    wan = next(label for label, name in studio_api.engines() if name == "wan-vace")
    choose(page, "engine", wan)
    page.wait_for_function("() => document.querySelector('#engine-note').innerText.includes('wan-vace')",
                           timeout=60_000)
    note = page.locator("#engine-note").inner_text()
    assert "cannot run here" in note and "GPU" in note, note
    negative.wait_for(state="visible", timeout=30_000)
    choose(page, "engine", "Parallax (CPU, seconds)")
    page.wait_for_function("() => document.querySelector('#engine-note').innerText.startsWith('Parallax engine')",
                           timeout=60_000)
    negative.wait_for(state="hidden", timeout=30_000)


def test_no_photo_shows_a_clear_message(page):
    reload(page)
    page.locator("#generate").click()
    toast = page.get_by_text("no photo given")
    toast.first.wait_for(timeout=30_000)
    page.wait_for_timeout(1200)  # let the toast slide in before the screenshot
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "no-photo.png"))


def test_example_fills_photo_and_prompt_and_estimate(page):
    reload(page)
    page.get_by_role("button", name="Rocket").click()
    page.wait_for_selector("#photo img", timeout=30_000)
    assert page.locator("#prompt textarea").input_value() == blocks.EXAMPLE_PROMPTS[3]
    page.wait_for_function("() => document.querySelector('#plan').innerText.includes('Pedestal up')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#estimate').innerText.includes('960x540')",
                           timeout=30_000)


def test_estimate_follows_the_latest_settings(page, tmp_path, astronaut):
    """A photo upload and a change of takes right after it send two estimates at once; the page must end
    on the one for the latest values (before always_last, the upload's reply could land last)."""
    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut).save(photo, quality=92)
    for _ in range(3):
        reload(page)
        page.locator("#photo input[type=file]").set_input_files(str(photo))
        box = page.locator("#takes input[type=number]")
        box.fill("3")
        box.press("Enter")
        page.wait_for_function("() => document.querySelector('#estimate').innerText.includes('3 take(s)')",
                               timeout=30_000)
        page.wait_for_timeout(1500)  # a stale reply would arrive in this time
        assert "3 take(s)" in page.locator("#estimate").inner_text()


#: Watches take 1's live player from the page itself (media events do not bubble, so a capturing listener on the
#: document): window.liveWidth is set the first time the live video has played 0.1 s while the whole take cannot
#: play yet. A poll from the test could miss that moment on a loaded machine; the page's own event cannot.
WATCH_LIVE = """() => { window.liveWidth = 0;
    document.addEventListener('timeupdate', (e) => {
        const v = e.target, whole = document.querySelector('#take-1 video');
        if (!window.liveWidth && v.closest && v.closest('#take-1-live') && v.currentTime > 0.1 && !v.paused
            && !(whole && whole.readyState >= 2)) window.liveWidth = v.videoWidth; }, true); }"""
LIVE = "() => window.liveWidth"


def test_the_first_take_plays_while_it_renders_then_whole(page, tmp_path, astronaut):
    """Generate: take 1 moves in the live player before it is whole (a 4 s take at 960x540 streamed in half-second
    segments), then its own player takes the place of the live one, and a second click streams again."""
    reload(page)
    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut).save(photo, quality=92)
    page.locator("#photo input[type=file]").set_input_files(str(photo))
    box = page.locator("#takes input[type=number]")
    box.fill("1")
    box.press("Enter")
    for click in range(2):
        page.evaluate(WATCH_LIVE)
        page.locator("#generate").click()
        assert page.wait_for_function(LIVE, timeout=90_000, polling=20).json_value() == 960
        if click == 0:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "live.png"))
        state = wait_playable(page, ["take-1"])[0]
        assert state["w"] == 960 and 3.9 < state["duration"] < 4.2
        page.wait_for_function("() => !document.querySelector('#take-1-live video')?.checkVisibility()",
                               timeout=10_000)
