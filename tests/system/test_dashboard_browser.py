"""The dashboard (`/_mock/ui`) in a real headless Chromium, driven by Playwright.

The browser, its page and the server behind it are tests/support/browser.py's; without Chromium or
Playwright the test skips and says why.

It clicks through what a front-end developer would: a batch moves PENDING -> RUNNING -> SUCCEEDED as the
clock buttons are pressed, a logged call shows up and takes a thumbs up and a comment, a dataset is made
from it and survives the 55-day button that removes the other log; and nothing a client sent (display
names, prompts) is ever run as HTML.
"""
from __future__ import annotations

import re

import httpx

from support.browser import KEY, PAID, api, browser, needs_chromium, page, server, sync_api  # noqa: F401

MODEL = "gemini-2.5-flash"
XSS_NAME = '<img src=x onerror="window.__xss = 1">batch'
XSS_PROMPT = '<script>window.__xss = 2</script><b>bold?</b> hello'

pytestmark = needs_chromium


def row(page, name: str):
    return page.locator(f'tr[data-name="{name}"]')


def test_batch_moves_with_the_clock_buttons(page, server, api):
    expect = sync_api.expect
    created = api.post(f"/v1beta/models/{MODEL}:batchGenerateContent", json={"batch": {
        "displayName": XSS_NAME,
        "inputConfig": {"requests": {"requests": [
            {"request": {"contents": [{"parts": [{"text": f"question {i}"}]}]}} for i in range(4)]}}}})
    assert created.status_code == 200, created.text
    name = created.json()["name"]

    page.goto(server.base_url + "/_mock/ui")
    batch = row(page, name)
    expect(batch.locator("td.state")).to_have_text("BATCH_STATE_PENDING")
    expect(batch).to_contain_text(XSS_NAME)            # shown as text, not run
    expect(batch).to_contain_text(re.compile(r"RUNNING in (59 min|1 h 0 min)"))

    page.click("#advance-1h")
    expect(batch.locator("td.state")).to_have_text("BATCH_STATE_RUNNING")
    expect(batch).to_contain_text("SUCCEEDED in")

    page.click("#advance-48h")
    expect(batch.locator("td.state")).to_have_text("BATCH_STATE_SUCCEEDED")
    expect(batch).to_contain_text("4 (4 / 0 / 0)")
    assert server.store.batches.state_of(name) == "BATCH_STATE_SUCCEEDED"
    assert page.evaluate("window.__xss") is None
    # the journal lists the create call, newest first
    expect(page.locator("#journal")).to_contain_text(":batchGenerateContent")


def test_logs_feedback_datasets_and_the_55_day_button(page, server, api):
    expect = sync_api.expect
    page.goto(server.base_url + "/_mock/ui")
    project = page.locator(f'#projects tr[data-project="{PAID}"]')
    expect(project).to_contain_text("tier2")

    # turn logging on from the page, then make two calls
    project.locator("button.logging-toggle").click()
    expect(project).to_contain_text("turn logging off")
    for text in (XSS_PROMPT, "a plain prompt"):
        answer = api.post(f"/v1beta/models/{MODEL}:generateContent", json={"contents": [{"parts": [{"text": text}]}]})
        assert answer.status_code == 200
    logs = server.store.logs.list_logs(PAID)["logs"]
    plain, risky = logs[0]["name"], logs[1]["name"]

    risky_row = row(page, risky)
    expect(risky_row.locator("td.prompt")).to_have_text(XSS_PROMPT)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#logs script").count() == 0 and page.locator("#logs b").count() == 0

    # thumbs up, then a comment
    risky_row.locator("button.thumbs-up").click()
    expect(risky_row.locator(".rating")).to_have_text("thumbs up")
    expect(risky_row.locator("button.thumbs-up")).to_have_attribute("aria-pressed", "true")
    risky_row.locator("input.comment").fill("useful <i>answer</i>")
    risky_row.locator("button.save-comment").click()
    expect(risky_row.locator("input.comment")).to_have_value("useful <i>answer</i>")
    log_id = risky.rsplit("/", 1)[1]
    feedback = server.store.logs.get_log(PAID, log_id)["feedback"]
    assert feedback == {"rating": "THUMBS_UP", "comment": "useful <i>answer</i>", "updateTime": feedback["updateTime"]}
    row(page, plain).locator("button.thumbs-down").click()
    expect(row(page, plain).locator(".rating")).to_have_text("thumbs down")

    # keep the risky log in a dataset, opting out of sharing; without a name the page shows the 400
    risky_row.locator("input.pick").check()
    page.locator(f'[data-project="{PAID}"] button.create-dataset').click()
    expect(page.locator("#notice")).to_contain_text("INVALID_ARGUMENT: displayName is required")
    expect(risky_row.locator("input.pick")).to_be_checked()        # the choice is kept for another try
    page.fill(f'[data-project="{PAID}"] input.dataset-name', "<u>keepers</u>")
    page.locator(f'[data-project="{PAID}"] input.dataset-shared').uncheck()
    page.locator(f'[data-project="{PAID}"] button.create-dataset').click()
    dataset = page.locator("tr.dataset")
    expect(dataset).to_have_count(1)
    expect(dataset).to_contain_text("<u>keepers</u>")
    expect(dataset.locator("td.shared")).to_have_text("not shared")
    expect(risky_row.locator("td.keep")).to_have_text("kept in 1 dataset(s)")
    dataset.locator("button.toggle-shared").click()
    expect(dataset.locator("td.shared")).to_have_text("shared")
    (stored,) = server.store.logs.list_datasets(PAID)["datasets"]
    assert stored["shared"] is True and stored["logs"] == [risky]

    # 55 days later only the kept log is left
    expect(row(page, plain).locator("td.keep")).to_have_text(re.compile(r"in (54 d 23 h|55 d 0 h)"))
    page.click("#advance-55d")
    expect(row(page, plain)).to_have_count(0)
    expect(row(page, risky)).to_have_count(1)
    expect(row(page, risky).locator(".rating")).to_have_text("thumbs up")
    assert page.evaluate("window.__xss") is None


def test_a_free_project_shows_no_logging_switch(page, server):
    expect = sync_api.expect
    free = httpx.post(f"{server.base_url}/v1beta/models/{MODEL}:generateContent",
                      headers={"x-goog-api-key": "free-ui-key"}, json={"contents": [{"parts": [{"text": "hi"}]}]})
    assert free.status_code == 200
    page.goto(server.base_url + "/_mock/ui")
    free_row = page.locator('#projects tr[data-project="project-free-ui"]')
    expect(free_row).to_contain_text("free tier: no logging")
    expect(free_row.locator("button")).to_have_count(0)
    expect(page.locator('#logs [data-project="project-free-ui"]')).to_have_count(0)
    expect(page.locator("#errors")).to_be_hidden()
    expect(page.locator("#usage")).to_be_visible()
