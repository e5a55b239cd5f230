"""The web UI in a real browser: Debian's chromium, driven headless by Playwright.

`make test` installs chromium (apt) before running this. Screenshots land in
test-artifacts/ for people to look at.
"""

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import PROJECT_ROOT, running_ui

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory, corpus_index):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs Debian's chromium")
    root = tmp_path_factory.mktemp("ui")
    with running_ui(root, corpus_index) as (url, _):
        yield url, root


@pytest.fixture(scope="module")
def page(ui_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 950})
        pg.goto(ui_url[0])
        pg.wait_for_selector("#question textarea", timeout=60000)
        yield pg
        browser.close()


def upload(page, path, expect: str) -> str:
    """Upload one file through the Add stories tab; return the result message."""
    page.get_by_role("tab", name="Add stories").click()
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_timeout(1500)
    page.click("#add")
    page.wait_for_function(
        "([expect, name]) => { const t = document.querySelector('#upload-result').innerText;"
        " return new RegExp(expect).test(t) && t.includes(name); }",
        arg=[expect, Path(path).name],
        timeout=60000,
    )
    return page.inner_text("#upload-result")


def ask(page, question: str) -> str:
    """Ask `question`; wait for one more answer in the chat than there was before; return the chat's text."""
    before = answers_now(page)
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        "([n]) => (document.querySelector('#chat').innerText.match(/answered by/g) || []).length > n",
        arg=[before],
        timeout=60000,
    )
    time.sleep(0.5)
    return page.inner_text("#chat")


def reply_to(chat: str, question: str) -> str:
    """The reply to the last time `question` was asked: the text between it and the reply's "searched for" echo."""
    parts = chat.split(question)
    if len(parts) >= 3 and parts[-1].lstrip().startswith("·"):  # the echo: "searched for: <question> · answered by"
        return parts[-2]
    return parts[-1]


def test_alliance_question_follow_up_and_abstention(page, ui_url):
    chat = ask(page, "Who launched the Central Asian Alliance?")
    assert "Spotlight Initiative" in chat
    sources = page.inner_text("#sources")
    assert "Uniting for Progress: EU and UN Support the Launch of the Central Asian Alliance" in sources
    marked = page.inner_text("#sources .src mark")
    assert "Central Asian Alliance" in marked  # the quoted sentence, highlighted in its passage
    page.click("#sources details summary")
    whole = page.inner_text("#sources details .story")
    assert "Spotlight Initiative is the world’s largest dedicated effort" in whole
    story_marks = page.eval_on_selector_all("#sources details .story mark", "els => els.map(e => e.innerText)")
    assert marked in story_marks  # the same sentence is highlighted in the whole story
    assert page.eval_on_selector("#chat a[href^='#m0-s1']", "a => a.innerText") == "[1]"
    page.screenshot(path=str(ARTIFACTS / "ui-answer.png"))

    page.locator("#chat button[aria-label='Like']").last.click()
    feedback = ui_url[1] / "feedback.jsonl"
    for _ in range(40):
        if feedback.is_file() and feedback.read_text().strip():
            break
        page.wait_for_timeout(250)
    entry = json.loads(feedback.read_text().splitlines()[-1])
    assert entry["value"] == "up" and entry["question"] == "Who launched the Central Asian Alliance?"
    assert entry["citations"][0]["title"].startswith("Uniting for Progress")

    chat = ask(page, "When was it launched?")
    assert "27 June" in chat.split("When was it launched?")[-1]
    assert "searched for: When was the Central Asian Alliance launched?" in chat

    chat = ask(page, "What is the capital of France?")
    assert "The stories don't say" in chat.split("What is the capital of France?", 1)[1]
    assert "none (the stories don't say)" in page.inner_text("#sources")
    page.screenshot(path=str(ARTIFACTS / "ui-conversation.png"), full_page=True)


def test_uploaded_story_with_script_renders_as_text(page, ui_url, tmp_path):
    evil = tmp_path / "evil-story.txt"
    evil.write_text(
        "<script>window.pwned = 1</script> Shymkent garden <b>news</b>\n12 May 2024\n"
        'A community garden with 40 plots opened. <img src=x onerror="window.pwned2=1"> '
        "<script>window.pwned3=1</script>\n",
        encoding="utf-8",
    )
    assert "✅" in upload(page, evil, "✅|❌")
    assert (ui_url[1] / "uploads" / "evil-story.txt").is_file()

    page.get_by_role("tab", name="Stories", exact=True).click()
    page.click("#story-pick input")
    page.keyboard.type("Shymkent garden")
    page.wait_for_timeout(800)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#story-view').innerText.includes('Shymkent garden')")
    view = page.inner_text("#story-view")
    assert "<script>window.pwned = 1</script> Shymkent garden <b>news</b>" in view
    assert '<img src=x onerror="window.pwned2=1">' in view
    assert page.evaluate("[window.pwned, window.pwned2, window.pwned3]") == [None, None, None]
    assert "<script>" in page.inner_text("#story-table")
    page.screenshot(path=str(ARTIFACTS / "ui-stories.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    chat = ask(page, "How many plots does the community garden in Shymkent have?")
    assert "40 plots" in chat.split("Shymkent have?", 1)[1]
    assert page.evaluate("[window.pwned, window.pwned2, window.pwned3]") == [None, None, None]


def test_bad_upload_is_refused_and_changes_nothing(page, ui_url, tmp_path):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\x00\x00binary")
    assert "binary" in upload(page, binary, "❌")
    assert not (ui_url[1] / "uploads" / "photo.txt").exists()


# -- issue 11 -----------------------------------------------------------------------------
def answers_now(page) -> int:
    return page.evaluate("(document.querySelector('#chat').innerText.match(/answered by/g) || []).length")


def set_date(page, which: str, value: str, note: str) -> str:
    """Type into the From/To date field; wait for the note under the fields to say `note`.

    A field the settings panel has only just rendered can take the first keystrokes before its
    change handler is bound (seen once in a fresh-clone run): then the same value is typed again.
    """
    field = page.locator(f"#date-{which} textarea, #date-{which} input").first
    if not field.is_visible():
        page.locator("#settings-panel button").first.click()
        field.wait_for(state="visible", timeout=20000)
    said = f"/{note}/.test(document.querySelector('#date-note').innerText)"
    for attempt in range(3):
        field.fill("")
        field.fill(value)
        field.press("Tab")
        try:
            page.wait_for_function(said, timeout=20000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    return page.inner_text("#date-note")


def test_dates_are_read_leniently_and_a_bad_one_is_explained_next_to_the_field(page):
    page.get_by_role("tab", name="Chat").click()
    assert "2023-07-01 or later" in set_date(page, "from", "2023/07/01", "2023-07-01")
    chat = ask(page, "Who launched the Central Asian Alliance?")
    assert "Spotlight" in reply_to(chat, "Who launched the Central Asian Alliance?")

    note = set_date(page, "from", "yesterday", "not a date")
    assert "YYYY-MM-DD" in note and "July 2023" in note
    before = page.inner_text("#chat")
    page.fill("#question textarea", "When was the Central Asian Alliance launched?")
    page.click("#send")
    page.wait_for_function(
        "([n]) => document.querySelector('#chat').innerText.length > n && "
        "/From date .yesterday. is not a date/.test(document.querySelector('#chat').innerText)",
        arg=[len(before)],
        timeout=30000,
    )
    page.wait_for_timeout(500)
    assert page.locator("#chat .error, #sources .error, #question .error").count() == 0
    assert page.is_visible("#question textarea") and "Sources for" in page.inner_text("#sources")

    set_date(page, "from", "", "^\\s*$")
    chat = ask(page, "When was the Central Asian Alliance launched?")
    assert "27 June" in reply_to(chat, "When was the Central Asian Alliance launched?")
    page.screenshot(path=str(ARTIFACTS / "ui-dates.png"), full_page=True)


def test_right_to_left_override_in_a_question_stays_inside_it(page):
    page.get_by_role("tab", name="Chat").click()
    ask(page, "\u202eWho launched the Central Asian Alliance?")
    # Where, on screen, does the searched-for text start, and where does "answered by" start?
    left = page.evaluate("""() => {
        const subs = [...document.querySelectorAll('#chat sub')].filter(s => s.innerText.includes('answered by'));
        const sub = subs[subs.length - 1];
        const walker = document.createTreeWalker(sub, NodeFilter.SHOW_TEXT);
        const at = {};
        for (let node; (node = walker.nextNode()); ) {
          for (const word of ['Alliance', 'answered by']) {
            const i = node.data.indexOf(word);
            if (i >= 0) { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + word.length);
                          at[word] = r.getBoundingClientRect().left; }
          }
        }
        return at;
    }""")
    assert left["Alliance"] < left["answered by"], left
    page.screenshot(path=str(ARTIFACTS / "ui-bidi.png"))


def test_uploads_are_badged_everywhere_and_can_be_removed(page, ui_url, tmp_path):
    bundled = PROJECT_ROOT / "data" / "corpus" / "000_5c89e8c983283150.txt"
    fake = tmp_path / bundled.name
    fake.write_text(bundled.read_text(encoding="utf-8").replace("Istanbul Regional Hub", "Paris Regional Hub"))
    result = upload(page, fake, "✅|❌")
    assert "✅" in result and "1 story" in result
    assert bundled.name in page.inner_text("#uploads-list")

    page.get_by_role("tab", name="Chat").click()
    question = "Which regional hub's experts were invited, the Paris Regional Hub?"
    chat = reply_to(ask(page, question), question)
    assert "Paris Regional Hub" in chat and "uploaded" in chat
    assert page.locator("#sources .upload-badge").count() >= 1
    page.get_by_role("tab", name="Stories", exact=True).click()
    # The table draws its rows only once its tab is shown; wait for them rather than read too soon.
    page.wait_for_function("document.querySelector('#story-table').innerText.includes('upload')", timeout=20000)

    page.get_by_role("tab", name="Add stories").click()
    page.click("#upload-pick input")
    page.keyboard.type(bundled.name)
    page.wait_for_timeout(500)
    page.keyboard.press("Enter")
    page.click("#remove-upload")
    page.wait_for_function("/Removed/.test(document.querySelector('#upload-result').innerText)", timeout=60000)
    assert "1 story" in page.inner_text("#upload-result")
    assert bundled.name not in page.inner_text("#uploads-list")
    assert not (ui_url[1] / "uploads" / bundled.name).exists()
    page.get_by_role("tab", name="Chat").click()
    chat = reply_to(ask(page, question), question)
    assert "Paris Regional Hub" not in chat


def test_reingest_shows_progress_in_the_stories_tab(page, corpus_index, small_corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("reingest-ui")
    with running_ui(root, corpus_index, CORPUS_DIR=str(small_corpus)) as (url, _):
        other = page.context.browser.new_page(viewport={"width": 1400, "height": 950})
        other.goto(url)
        other.wait_for_selector("#question textarea", timeout=60000)
        other.get_by_role("tab", name="Stories", exact=True).click()
        other.click("#reingest")
        other.wait_for_function(
            "/Re-ingesting: \\d+\\/2 stories, \\d+\\/\\d+ chunks, [\\d.]+ chunks\\/s/"
            ".test(document.querySelector('#status').innerText)",
            timeout=60000,
        )
        seen = other.inner_text("#status")
        other.screenshot(path=str(ARTIFACTS / "ui-reingest-progress.png"))
        other.wait_for_function("/Re-ingest: /.test(document.querySelector('#status').innerText)", timeout=120000)
        assert "2 stories added" in other.inner_text("#status")
        other.close()
    assert "left" in seen or "done" in seen


# -- issue 14 -----------------------------------------------------------------------------
FAO_COUNT = "How many press releases mention FAO?"


def test_question_link_asks_it_and_the_copy_button_copies_markdown_with_sources(page, ui_url):
    """`?q=` opens the UI with the question asked; "Copy as Markdown" copies the answer and its sources."""
    context = page.context.browser.new_context(
        viewport={"width": 1400, "height": 950}, permissions=["clipboard-read", "clipboard-write"]
    )
    other = context.new_page()
    other.goto(f"{ui_url[0]}/?q=How%20many%20press%20releases%20mention%20FAO%3F")
    other.wait_for_function(
        "(document.querySelector('#chat')?.innerText.match(/answered by/g) || []).length > 0", timeout=60000
    )
    chat = other.inner_text("#chat")
    assert (
        FAO_COUNT in chat and "3 of the 5 press releases mention “FAO”." in chat and "answered by archive scan" in chat
    )
    other.click("#chat button.copy-md")
    other.wait_for_function("document.querySelector('#chat button.copy-md').innerText === 'Copied'", timeout=10000)
    copied = other.evaluate("navigator.clipboard.readText()")
    lines = copied.splitlines()
    assert lines[0] == f"**Q:** {FAO_COUNT}" and lines[2] == "3 of the 5 press releases mention “FAO”."
    sources = lines[lines.index("**Sources**") + 2 :]
    assert sources[0].startswith("- [1] *") and "(Press Release, 2023-06-14), `data/corpus/" in sources[0]
    assert sources[1].startswith("  > “") and "FAO" in sources[1]  # the quote travels with the Markdown
    href = other.get_attribute("#chat a.qlink", "href")
    assert href == "?q=How%20many%20press%20releases%20mention%20FAO%3F"
    other.screenshot(path=str(ARTIFACTS / "ui-archive-count.png"))
    context.close()


def test_a_question_typed_before_the_page_finished_loading_is_kept_and_answered(page, ui_url):
    """The page-load events (the `?q=` link among them) answer late on a busy server: typing meanwhile is kept."""
    join = "**/gradio_api/queue/join*"
    held, bodies, released = [], [], []

    def hold_until_typed(route):
        bodies.append(route.request.post_data or "")
        if released:
            route.continue_()
        else:
            held.append(route)

    context = page.context.browser.new_context(viewport={"width": 1400, "height": 950})
    try:
        other = context.new_page()
        other.route(join, hold_until_typed)
        other.goto(ui_url[0])
        other.wait_for_selector("#question textarea", timeout=60000)
        wait_until(other, lambda: held, "the page sends its load events once it is up")
        other.fill("#question textarea", "Who launched the Central Asian Alliance?")
        released.append(True)
        for route in held:
            route.continue_()
        # the client sends the event chained after the link's question (with the chat's inputs, where the
        # load events send none) only once that question's outputs are applied to the page
        wait_until(other, lambda: any('"data":[]' not in b for b in bodies), "the link's event has answered")
        other.wait_for_timeout(300)
        assert other.input_value("#question textarea") == "Who launched the Central Asian Alliance?"
        other.click("#send")
        other.wait_for_function("document.querySelector('#chat').innerText.includes('answered by')", timeout=60000)
        assert "Spotlight Initiative" in other.inner_text("#chat")
    finally:
        context.close()


def wait_until(pg, condition, what: str, seconds: float = 60) -> None:
    """Poll `condition` while Playwright dispatches the page's events (route handlers run inside its calls)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        pg.wait_for_timeout(100)
    raise AssertionError(f"timed out: {what}")


def test_citations_are_compact_with_the_quote_expandable_in_the_sources_panel(page):
    page.get_by_role("tab", name="Chat").click()
    chat = ask(page, "Who launched the Central Asian Alliance?")
    last = reply_to(chat, "Who launched the Central Asian Alliance?")
    lines = page.eval_on_selector_all("#chat .cite-line", "els => els.slice(-2).map(e => e.innerText)")
    assert lines[-1].startswith("[2] Uniting for Progress") and lines[-1].endswith("· Story · 2023-07-03")
    assert last.count("was officially launched on 27 June") == 1  # said once, in the answer: not again as a quote
    style = page.eval_on_selector_all(
        "#chat a.cite",
        "els => { const s = getComputedStyle(els[els.length - 1]);"
        " return [s.textDecorationLine, s.color, getComputedStyle(els[0].parentElement)"
        ".color]; }",
    )
    assert "underline" in style[0] and style[1] != style[2]  # [n] looks like a link, not like the words around it
    summary = page.locator("#sources .src").last.locator("details.quote > summary")
    assert "Central Asian Alliance" in summary.inner_text()
    assert not page.locator("#sources .src").last.locator(".story").is_visible()
    summary.click()
    story = page.locator("#sources .src").last.locator(".story")
    story.wait_for(state="visible", timeout=5000)
    assert "Spotlight Initiative is the world’s largest dedicated effort" in story.inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-compact-citations.png"))


def test_story_rows_and_timeline_entries_open_the_story(page):
    page.get_by_role("tab", name="Stories", exact=True).click()
    page.wait_for_function(
        "document.querySelector('#story-table').innerText.includes('Six Transitions')", timeout=20000
    )
    page.locator("#story-table [role=row]", has_text="Six Transitions").first.locator("[role=gridcell]").nth(1).click()
    page.wait_for_function("document.querySelector('#story-view').innerText.includes('Six Transitions')", timeout=20000)
    assert "Publication · 2023-09-28" in page.inner_text("#story-view")
    page.get_by_text("Timeline", exact=True).click()
    entry = page.locator("#timeline li[data-story]", has_text="Driving change")
    entry.wait_for(state="visible", timeout=10000)
    assert "2016 · 1 story" in page.inner_text("#timeline")
    entry.click()
    page.wait_for_function("document.querySelector('#story-view').innerText.includes('Driving change')", timeout=20000)
    assert "52 companies from Kazakhstan" in page.inner_text("#story-view")
    assert not re.search(r"\b1 stories\b", page.inner_text("body"))
    page.screenshot(path=str(ARTIFACTS / "ui-stories-open.png"), full_page=True)
