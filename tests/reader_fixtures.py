"""A tiny in-memory story and its evidence: reader and feature tests need no index or embedder."""

from __future__ import annotations

from assistant.chunks import Chunk
from assistant.features import WHOLE_STORY
from assistant.retrieve import Evidence
from assistant.stories import Story
from assistant.types import StoredChunk

TEXT = (
    "The Warsaw Uprising Museum opened in 2004 in the Wola district. "
    "It was founded by the city council after a long public debate. "
    "The museum holds more than 1,000 objects and receives about 500,000 visitors a year. "
    "Its director, Jan Ołdakowski, has led it since the opening."
)
STORY = Story("s1", "Warsaw Uprising Museum", "2020-01-02", "Story", "en", "museum.txt", TEXT, 0, len(TEXT))


def founding_passage(story: Story = STORY, rank: int = 1, dense: float = 0.0) -> Evidence:
    """The passage holding the second sentence alone ("It was founded by the city council ..."): it gives no date."""
    start, end = TEXT.index("It was founded"), TEXT.index("The museum")
    chunk = Chunk(f"{story.story_id}-c2", story.story_id, 1, start, end, story.text[start:end])
    return Evidence(StoredChunk(chunk, story), 0.03, dense=dense, rank=rank)


def long_story(story_id: str = "s1", extra: int = WHOLE_STORY) -> Story:
    """STORY followed by `extra` more sentences: by default enough that it is read only where retrieval points."""
    text = TEXT + " Its archive holds many letters from the uprising." * extra
    return Story(story_id, STORY.title, STORY.date, STORY.kind, STORY.language, STORY.source, text, 0, len(text))


def evidence(dense: float = 0.85) -> list[Evidence]:
    chunk = Chunk("c1", "s1", 0, 0, len(TEXT), TEXT)
    return [Evidence(StoredChunk(chunk, STORY), 0.03, dense=dense, bm25=5.0, rank=1)]


IDF = {
    t: 2.0
    for t in (
        "warsaw",
        "upris",
        "museum",
        "open",
        "wola",
        "district",
        "found",
        "citi",
        "council",
        "object",
        "visitor",
        "year",
        "director",
        "jan",
        "ołdakowski",
        "led",
        "2004",
    )
}
