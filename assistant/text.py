"""Tokens and terms shared by BM25 retrieval and the offline reader.

English and Russian words are Snowball-stemmed; Kazakh is agglutinative and has no
Snowball stemmer, so a Kazakh word is cut to its first six letters, which keeps the
stem of most inflected forms ("серіктестік", "серіктестігі" -> "серікт").
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
KAZAKH = set("әғқңөұүһі")
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom whose why will with would you your yours yourself tell give name
    list according many much did does say said says mentioned stories story и в во не что он на я с со как а то
    все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему теперь когда
    даже ну ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они
    тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто
    этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех
    никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много
    разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно
    всю между сколько скольких скольким сколькими каков какие какое каким
    және мен да де бен пен ол бұл осы сол не ме ма ба ба бе бар жоқ үшін туралы
    қандай қай кім қашан қайда неше қанша деп еді болды бойынша арқылы сияқты
    """.split()
)
MAGNITUDES = r"hundred|thousand|million|billion|dozen"  # also figures in the plural: "in the dozens", "thousands"
COUNT_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty"
# figures written as words: entities to the reader, never the thing a question counts
NUMBER_WORDS = rf"{COUNT_WORDS}|{MAGNITUDES}|half"
_EN = snowballstemmer.stemmer("english")
_RU = snowballstemmer.stemmer("russian")
_STEMMING = threading.Lock()  # a Snowball stemmer keeps its word in itself: two threads at once corrupt it


def words(text: str) -> list[str]:
    """The words of `text` as written, in order: runs of letters and digits, kept whole across an apostrophe."""
    return WORD.findall(text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A word's index form: Snowball for English and Russian; a Kazakh word (no Snowball) is cut to six letters."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if any(c in KAZAKH for c in w):
        return w[:6]
    with _STEMMING:
        return (_RU if re.search("[а-яё]", w) else _EN).stemWord(w)


def terms(text: str, keep_stopwords: bool = False) -> list[str]:
    """Stemmed index terms of `text`, in order, with repeats."""
    out = []
    for w in words(text):
        lw = w.lower()
        if not keep_stopwords and lw in STOPWORDS:
            continue
        out.append(stem(w))
    return out


def content_terms(text: str) -> list[str]:
    """Distinct stemmed terms of a question, in order of first appearance."""
    seen: dict[str, None] = {}
    for t in terms(text):
        seen.setdefault(t, None)
    return list(seen)
