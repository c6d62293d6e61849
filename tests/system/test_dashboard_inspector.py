"""The request inspector, rules panel, clock controls and state browser of `/_mock/ui`, in headless Chromium.

A front-end developer's round: find the failing request, see what was sent and answered, script the next
answer from it; watch requests arrive live; look at an image that was sent; expire and cancel resources.
Screenshots of each step are kept in `test-artifacts/dashboard/` (or $GEMINI_MOCK_ARTIFACTS).
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from support.browser import KEY, PAID, api, browser, needs_chromium, page, server, sync_api  # noqa: F401
from support.media import png
from support.paths import ROOT

pytestmark = needs_chromium

MODEL = "gemini-3.5-flash-lite"
ARTIFACTS = Path(os.environ.get("GEMINI_MOCK_ARTIFACTS") or ROOT / "test-artifacts")


def shot(page, name: str) -> None:
    folder = ARTIFACTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def opened(page, server):
    page.goto(server.base_url + "/_mock/ui")
    sync_api.expect(page.locator("body")).to_have_attribute("data-feed", "1")   # the live feed is connected
    return page


def test_find_a_failing_request_see_it_and_script_the_next_answer(page, server, api):
    expect = sync_api.expect
    opened(page, server)
    bad = api.post(f"/v1beta/models/{MODEL}:generateContent",
                   json={"contents": [{"parts": [{"text": "plan my trip"}]}], "generationConfig": {"temperature": 7}})
    assert bad.status_code == 400
    # pushed in, highlighted (the module's server is shared: earlier tests may have left errors of their own)
    failing = page.locator("#request-list tr.req.error", has_text=bad.json()["error"]["message"][:40])
    expect(failing).to_have_count(1)
    expect(failing).to_contain_text(bad.json()["error"]["message"][:40])
    failing.click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text('"temperature": 7')    # what was sent, pretty
    expect(detail).to_contain_text('"status": "INVALID_ARGUMENT"')
    expect(page.locator("#curl")).to_contain_text(f"curl -X POST {server.base_url}/v1beta/models/{MODEL}:generateContent")
    expect(page.locator("#curl")).to_contain_text("$GEMINI_API_KEY")
    assert KEY not in page.locator("#detail").inner_text()
    shot(page, "1-failing-request")

    page.click("#script-next")
    rule = page.locator("#rule-json")
    expect(rule).to_have_value(__import__("re").compile(r'"prompt": "plan my trip"'))
    rule.fill('{"match": {"prompt": "plan my trip"}, "respond": {"text": "Go to Lisbon."}, "times": 1}')
    page.click("#add-rule")
    expect(page.locator("#rules tr.rule")).to_have_count(1)
    answer = api.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": [{"parts": [{"text": "plan my trip"}]}]})
    assert answer.json()["candidates"][0]["content"]["parts"][0]["text"] == "Go to Lisbon."
    expect(page.locator("#request-list tr.req").first.locator(".badge.rule")).to_have_text("rule")
    shot(page, "2-scripted")
    page.locator("#rules tr.rule button.remove").click()
    expect(page.locator("#rules tr.rule")).to_have_count(0)


def test_live_rows_filters_stream_events_and_an_image_preview(page, server, api):
    expect = sync_api.expect
    assert api.delete("/_mock/requests").status_code == 200   # the module's server is shared: count from empty
    opened(page, server)
    streamed = api.post(f"/v1beta/models/{MODEL}:streamGenerateContent", params={"alt": "sse"},
                        json={"contents": [{"parts": [{"text": "a story about owls"}]}]})
    events = [e for e in streamed.text.split("\r\n\r\n") if e]
    image = base64.b64encode(png()).decode()
    api.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": [{"parts": [
        {"text": "what colour is this?"}, {"inlineData": {"mimeType": "image/png", "data": image}}]}]})
    api.get("/v1beta/models")
    rows = page.locator("#request-list tr.req")
    expect(rows).to_have_count(3)

    page.fill("#q", "owls")                                   # searched in the bodies, by the server
    expect(rows).to_have_count(1)
    rows.first.click()
    expect(page.locator("#detail")).to_contain_text(f"{len(events)} events, in order")
    expect(page.locator("#detail .event")).to_have_count(len(events))
    shot(page, "3-stream-events")

    page.fill("#q", "")
    page.select_option("#f-method", "GET")
    expect(rows).to_have_count(1)
    page.select_option("#f-method", "")
    expect(rows).to_have_count(3)
    page.locator("#request-list tr.req", has_text="generateContent").filter(has_not_text="stream").click()
    preview = page.locator("#detail .media img")
    expect(preview).to_have_count(1)
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 4   # a real image, decoded
    expect(page.locator("#detail")).to_contain_text("what colour is this?")
    shot(page, "4-image-preview")


def test_clock_exact_time_reset_and_the_state_browser_actions(page, server, api):
    expect = sync_api.expect
    uploaded = api.post("/upload/v1beta/files", content=b"notes", headers={
        "X-Goog-Upload-Protocol": "raw", "Content-Type": "text/plain"}).json()["file"]["name"]
    batch = api.post(f"/v1beta/models/{MODEL}:batchGenerateContent", json={"batch": {"inputConfig": {"requests": {
        "requests": [{"request": {"contents": [{"parts": [{"text": "q"}]}]}}]}}}}).json()["name"]
    opened(page, server)

    page.select_option("#browse-project", PAID)
    files = page.locator('#browser button.kind[data-kind="files"]')
    files.click()
    item = page.locator(f'#browser tr.browse-item[data-name="{uploaded}"]')
    expect(item).to_contain_text("ACTIVE")
    item.locator("a.open").click()
    expect(page.locator("#browse-detail")).to_contain_text('"sizeBytes": "5"')
    shot(page, "5-state-browser")
    item.locator("button.action-expire").click()
    expect(item).to_have_count(0)                              # expired now: gone from the project
    assert api.get(f"/v1beta/{uploaded}").status_code in (403, 404)

    page.locator('#browser button.kind[data-kind="batches"]').click()
    job = page.locator(f'#browser tr.browse-item[data-name="{batch}"]')
    expect(job).to_contain_text("BATCH_STATE_PENDING")
    job.locator("button.action-cancel").click()
    expect(job).to_contain_text("BATCH_STATE_CANCELLED")

    page.fill("#clock-at", "2031-02-03T04:05:06Z")
    page.click("#clock-set")
    expect(page.locator("#now")).to_contain_text("2031-02-03T04:05")
    page.click("#clock-reset")
    expect(page.locator("#now")).not_to_contain_text("2031-02-03")
    page.fill("#clock-at", "not a time")
    page.click("#clock-set")
    expect(page.locator("#notice")).to_contain_text("INVALID_ARGUMENT: Invalid value at 'now'")   # the error, shown
    shot(page, "6-clock")


def test_a_paced_stream_arrives_piece_by_piece_in_the_browser(page, server):
    """What a front end sees with a configured pace: the events arrive in separate reads, the first one
    after the time to first token (only lower bounds on time: the sleeps guarantee them)."""
    server.store.config.patch({"stream": {"models": {MODEL: {"tokensPerSecond": 20.0, "firstTokenSeconds": 0.4}}}})
    opened(page, server)
    reads = page.evaluate("""async ([model, key]) => {
        const started = performance.now();
        const response = await fetch(`/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
            method: "POST", headers: {"x-goog-api-key": key, "Content-Type": "application/json"},
            body: JSON.stringify({contents: [{parts: [{text: "tell a long story about the sea"}]}]})});
        const reader = response.body.getReader();
        const out = [];
        for (;;) {
            const {value, done} = await reader.read();
            if (done) return out;
            out.push({at: performance.now() - started, text: new TextDecoder().decode(value)});
        }
    }""", [MODEL, KEY])
    events = sum(read["text"].count("data: ") for read in reads)
    assert events > 2 and len(reads) >= 2                 # piece by piece, not in one go
    assert reads[0]["at"] >= 400                            # the time to first token, on the real clock
    entry = server.store.journal.entries(bodies=True)[-1]
    assert len(entry.events) == events                      # and the journal kept each event


def test_generated_speech_gets_a_player(page, server, api):
    server.store.config.patch({"limits": {"journalEntryBytes": 4 * 1024 * 1024}})
    opened(page, server)
    spoken = api.post("/v1beta/models/gemini-2.5-flash-preview-tts:generateContent", json={
        "contents": [{"parts": [{"text": "Say: hello there"}]}], "generationConfig": {"responseModalities": ["AUDIO"]}})
    assert spoken.status_code == 200, spoken.text
    mime = spoken.json()["candidates"][0]["content"]["parts"][0]["inlineData"]["mimeType"]
    page.locator("#request-list tr.req").first.click()
    player = page.locator("#detail .media audio")
    sync_api.expect(player).to_have_count(1)
    sync_api.expect(page.locator("#detail .media")).to_contain_text(mime)
    duration = player.evaluate("""audio => new Promise((resolve) => {
        if (audio.readyState >= 1) resolve(audio.duration);
        audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
        audio.addEventListener("error", () => resolve(-1));
    })""")
    assert duration > 0                                     # the browser decoded the PCM as WAV
    shot(page, "7-audio-player")
