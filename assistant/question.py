"""Question analysis: what kind of fact a question asks for, its parts, and its terms.

General syntax only (wh-words, "X and when", "what is the X of Y"): nothing here refers
to a particular story or question. How much each clue matters is learned (see `reader`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from .stories import detect_language
from .text import NUMBER_WORDS, STOPWORDS, content_terms, stem, terms, words

__all__ = ["KINDS", "Part", "Profile", "asks_several", "counted_words", "profile", "question_kind"]

KINDS = ("person", "date", "place", "count", "amount", "duration", "share", "list", "description")
WH = r"(?:how|what|who|whom|whose|when|where|which|why)"
PART_SPLIT = re.compile(rf",?\s+and\s+(?={WH}\b|(?:at|in|on|for|during|from)\s)", re.I)
FOCUS_OF = re.compile(
    r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the|its|their|his|her)\s+([\w\s'’-]+?)\s+"
    r"(?:of|for|in|at|behind|about|between)\b",
    re.I,
)
FOCUS_WHO_VERB = re.compile(
    r"^\s*who\s+(?!is\b|was\b|are\b|were\b|did\b|does\b|do\b|has\b|have\b|will\b)([a-z]+)\b", re.I
)
FOCUS_WITH_WHOM = re.compile(r"\b(\w+)\s+(?:with|by|to|for)\s+whom\b", re.I)
DEFINITION = re.compile(
    r"^(?:what|who)\s+(?:is|are|was|were)\s+(?:the\s+|an?\s+)?([\w'’-]+(?:\s+[\w'’-]+){0,2}?)\s*\?*$", re.I
)
SHARE_WORDS = r"percentage|share|proportion|fraction|percent"
SHARE = re.compile(rf"\b(what|which)\s+({SHARE_WORDS})\b|%|процент|доля|пайыз")
# Russian "сколько" declines ("скольких людей", "скольким странам"); not "несколько", "бірнеше" (several)
COUNT = re.compile(r"\b(?:how many|what number|скольк(?:о|их|им|ими)|қанша|неше)\b")
COUNTED = re.compile(rf"(?:{COUNT.pattern})\s+(?:of\s+(?:(?:the|its|their|these|those)\s+)?)?(.*)", re.I)
# "which/what" and the words up to a verb: the thing asked for ("Which key transitions are ...", "What threats does")
ASKED_THING = re.compile(
    r"\b(?:which|what)\s+((?:[\w'’-]+\s+){0,3}?[\w'’-]+?)\s+"
    r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might)\b",
    re.I,
)
INVARIANT_NOUNS = frozenset({"news", "series", "species", "means"})  # English nouns ending in "s" in the singular
COUNTED_WORDS = 1  # content words after "how many" taken to name what is counted (2 lost dev abstention: docstring)
NUMBER_WORD = re.compile(rf"(?:(?:{NUMBER_WORDS})s?|миллион\w*|миллиард\w*|тысяч\w*|млн|млрд)$", re.I)
DATE = re.compile(
    r"\b(what|which|on what|in what) (date|day|year|month|century|decade)\b"
    r"|\bкак(?:ой|ом|ого|ому|ая|ую|ие|их)\s+"
    r"(?:год|года|году|годы|годах|месяц|месяца|месяцу|месяце|числа|день|дня|дню|дни|дней|дата|даты|дате|дату)\b"
    r"|\bқай (?:жылы|жылға|жылдан|жылдары|күні|күнге|айда|айында)\b"  # the case endings: not "жылдық" (annual)
)
# a question asking a sum of money, answered by a figure with a currency: "how much/large" right before a money noun
# ("How much funding ...?", "How large was the grant ...?"), or "how much" and an auxiliary, with a money verb later
# ("How much did the mission cost?", "How much has Türkiye invested?"). Not "how much time did they spend", "how much
# of the fund's area", "how much did prices rise", nor "contribute" ("how much did tourism contribute to growth?"),
# and never when the question names a share ("as a share of GDP")
MONEY_NOUN = (
    r"money|funds?|funding|financing|finance|investments?|grants?|budgets?|capital|loans?|revenues?|income|"
    r"profits?|donations?|costs?|price|spending|dollars|euros|tenge"
)
MONEY_VERB = (
    r"cost|costs|pay|paid|spend|spent|invest(?:ed)?|donated?|raised?|"
    r"fund(?:ed)?|financed?|grant(?:ed)?|lend|lent|earn(?:ed)?"
)
AUXILIARY = r"did|does|do|will|would|has|have|had|is|was|were|are"
# ... or "what is the <sum>" ("What was the (estimated total) budget of ...?", "What is the programme's budget?",
# "What's her salary?"), where the noun is itself a sum of money: not "capital", "finance" or "grant", which name
# other things after "what is the" ("What is the capital of France?"); a cost not of money is none ("the human cost of
# the war"); and the noun ends its phrase ("the budget office" is no sum, and "What was the funding for?" asks a
# purpose)
SUM_NOUN = r"budgets?|costs?|prices?|salary|salaries|wages?|fees?|funding|spending|revenues?|income|profits?"
NOT_MONEY = r"human|social|environmental|political|emotional|health|opportunity|moral|personal"
WHAT_SUM = (
    r"\bwhat(?:['’]s|\s+(?:is|was|were|are|will\s+be))\s+(?:the\s+)?(?:its|their|his|her|[\w-]+['’]s)?\s*"
    rf"(?:(?!(?:{NOT_MONEY})\b)[\w-]+\s+){{0,2}}(?:{SUM_NOUN})"
    r"(?=\s+(?:of|for|in|at|to|on|per)\s+\w|\s*[?.,]|\s*$)"
)
MONEY = re.compile(
    rf"\bhow\s+(?:much|large|big|high)\s+(?:(?:{AUXILIARY})\s+)?(?:(?:the|its|their)\s+)?(?:[\w-]+\s+)?(?:{MONEY_NOUN})\b"
    rf"|\bhow\s+much\s+(?:{AUXILIARY})\b.*\b(?:{MONEY_VERB})\b|{WHAT_SUM}",
    re.I,
)
SHARE_ASKED = re.compile(rf"%|\b(?:{SHARE_WORDS}|per\s+cent)\b", re.I)  # anywhere in the question
DURATION = re.compile(r"\bhow long\b|\bкак долго\b|\bсколько времени\b|\bқанша уақыт")  # a span of time or a length
# the same in Russian and Kazakh, asked of a sum ("какую сумму"), a budget or a cost right after the question word
# ("Каков (общий) бюджет ...?", "Каков объём финансирования ...?", "Сколько стоил ...?", "Сколько инвестировала ...?",
# "Бюджеті қанша?"), not a budget named elsewhere ("Кто утвердил бюджет?")
MONEY_ASKED = (
    r"\bкак(?:ую|ая) сумм\w*|\bсколько (?:денег|средств(?!\s+массов)|потратил\w*|(?:(?:он|она|оно|они|это)\s+)?стои\w*)"
    r"|\bсколько (?:было\s+)?(?:инвестирова\w*|инвестиций|потрачено)"
    r"|\bво сколько обош\w*"
    r"|\bкак(?:ов|ова|овы|ой|ая)\s+(?:\w+\s+)?(?:бюджет|стоимость|объ[её]мы? (?:финансирования|инвестиций))\b"
    r"|\bқанша (?:қаржы|ақша|қаражат)\w*|\b(?:бюджеті|құны) қанша\b"
)
MONEY_RU_KK = re.compile(MONEY_ASKED, re.I)
AMOUNT = re.compile(rf"\bhow (much|large|big|far|old|high|tall)\b|{MONEY_ASKED}|{WHAT_SUM}", re.I)
# after "when": a verb, perhaps after an adverb ("When exactly was ..."), "'s", or "and" ("When and where ...")
INVERTED = re.compile(
    r"['’]s\b|,?\s+and\b|\s+(?:(?-i:[a-z]+ly)\s+)?"
    r"(?:did|do|does|was|were|is|are|will|would|could|can|had|has|have|should|shall|might|must|may)(?:n't)?\b",
    re.I,
)
ANY_WH = re.compile(rf"\b{WH}\b", re.I)
WHEN = re.compile(r"\b(?:when|когда|қашан|қай кезде)\b", re.I)
# the question words of each language ("не" is left out: in Russian it is "not")
FIRST_WH = re.compile(
    rf"\b(?:{WH}|кто|что|где|куда|откуда|как|как(?:ой|ая|ое|ие|ом|ого|ому|их|ую|им)|котор\w+|чей|чья|чьё|чьи|почему|зачем|"
    r"скольк(?:о|их|им|ими)|кім|кімнің|кімге|қайда|қайдан|қалай|қандай|қай|неге|неліктен|неше|қанша)\b",
    re.I,
)
PLACE = re.compile(
    r"\bwhere\b|\b(which|what) (city|cities|country|countries|region|regions|place|places|town|venue)\b"
    r"|где|қайда|қай қала|\b(?:в|из) как(?:ом|ой|ого|их) (?:город|стран|регион|област)\w*|\bқай (?:елде|өңірде|жерде)\b"
)
PERSON = re.compile(
    r"\bwho(m|se)?\b|\b(which|what) (\w+ )?(organi[sz]ations?|agency|agencies|company|companies|banks?|ministers?|"
    r"ministry|ministries|person|people|officials?|group|partners?|bod(y|ies)|entity|entities|funds?|office|"
    r"programme|program|initiative|project|leaders?)\b|кто|кім"
    r"|\bкак(?:ая|ой|ое|ие|ую|им) (?:организаци|агентств|компани|фонд|министерств|ведомств)\w*"
    r"|\b(?:қай|қандай) (?:агенттік|ұйым|компания|қор|министрлік)\w*"
)


@dataclass(frozen=True)
class Part:
    """One thing a question asks: 'Who launched X' and 'when' are two parts of one question."""

    text: str
    kind: str
    terms: tuple[str, ...]
    focus: frozenset[str]  # the relation asked about ("launched", "head of"): an answer should hold it
    counted: frozenset[str] = frozenset()  # "how many delegates ...": stems naming what is counted ({"deleg"})
    money: bool = False  # an amount asked in money ("how much did it cost?"): a figure with a currency answers
    several: bool = False  # several things asked ("Which challenges ...?", "List the ..."): a list may answer


@dataclass(frozen=True)
class Profile:
    """What a question asks: its kind of fact, terms, language, parts and the names it is about."""

    kind: str  # one of KINDS
    terms: tuple[str, ...]
    language: str
    parts: tuple[Part, ...]
    bigrams: frozenset[tuple[str, str]]
    names: tuple[str, ...]  # capitalised words after the first: the named things the question is about
    defines: str = ""  # "what is the FRIENDS project?" -> "friends": a definition is wanted


def question_kind(text: str) -> str:
    """The kind of fact asked for, from the question's wh-phrase."""
    q = text.lower()
    if SHARE.search(q):
        return "share"
    if DURATION.search(q):
        return "duration"
    if AMOUNT.search(q):
        return "amount"
    if COUNT.search(q):
        return "count"
    if DATE.search(q) or asks_when(text):
        return "date"
    if PLACE.search(q):
        return "place"
    if PERSON.search(q):
        return "person"
    first = re.findall(r"[\w%]+", q)[:1]
    if first in (["list"], ["name"]) or re.search(r"\bwhat (are|were) the\b", q):
        return "list"
    return "description"


def asks_when(question: str) -> bool:
    """Whether "when" is what the question asks, not a condition in it ("What happens when ice melts?").

    It is asked when no other wh-word comes before it, and either a verb comes straight after it
    ("When did ...", "When exactly was ...", "When and where ...") or no English wh-word follows:
    "When B cells begin to replicate, what do they become?" opens with a clause and asks "what".
    """
    found = WHEN.search(question)
    if found is None:
        return False
    first = FIRST_WH.search(question)
    if first is not None and first.start() < found.start():
        return False
    rest = question[found.end() :]
    return bool(INVERTED.match(rest)) or not ANY_WH.search(rest)


def focus_terms(question: str) -> set[str]:
    """The relation a question asks about: the head of "what is the X of Y", the verb of "who VERBed"."""
    found: set[str] = set()
    for pattern in (FOCUS_OF, FOCUS_WITH_WHOM, FOCUS_WHO_VERB):
        for m in pattern.finditer(question):
            found.update(terms(m.group(1)))
    return found


def counted_words(question: str) -> frozenset[str]:
    """The stem naming what a "how many" question counts ("delegates"), as a set; empty when there is none.

    The first COUNTED_WORDS content words after "how many [of the]", stopping at a common word and
    skipping figures written as words ("how many million people": "people"). An adjective stands in
    for its noun ("how many new centres": "new"); taking two words also took the verb ("delegates
    took part") and lowered dev abstention at 5% false abstention (dev2 0.26 -> 0.22, SQuAD dev 0.34
    -> 0.32), so one it is.
    """
    found = COUNTED.search(question)
    out: list[str] = []
    for word in words(found.group(1)) if found else ():
        if word.lower() in STOPWORDS or word[0].isdigit() or len(out) == COUNTED_WORDS:
            break
        if not NUMBER_WORD.match(word):
            out.append(stem(word))
    return frozenset(out)


def asks_several(question: str, kind: str) -> bool:
    """Whether a question asks for several things: a list question, or "which/what" with a plural noun.

    English only. The noun is the last word before a verb or an "of" ("What sectors of the economy will ...");
    "which of the ..." asks for one of several. It is plural when it ends in "s" but not in "ss", "us", "is" or
    "ics", nor is one of the few nouns ending in "s" in the singular (INVARIANT_NOUNS). "Which cross-border
    problems did ...", "What threats does ...", "Through which UN agencies is ..." ask several; "Which project
    was ...", "What news was ..." ask one.
    """
    if kind == "list":
        return True
    found = ASKED_THING.search(question)
    if found is None or found.group(1).lower().startswith("of "):
        return False
    head = re.split(r"\s+of\s+", found.group(1), flags=re.I)[0].split()[-1].lower()
    return (
        len(head) > 3
        and head.endswith("s")
        and not head.endswith(("ss", "us", "is", "ics", "'s", "’s"))
        and head not in INVARIANT_NOUNS
    )


def named_things(question: str) -> tuple[str, ...]:
    """Capitalised words other than the first: the names a question is about ("Warsaw", "UNICEF")."""
    tokens = words(question)
    return tuple(dict.fromkeys(w for i, w in enumerate(tokens) if i > 0 and w[:1].isupper()))


def profile(question: str) -> Profile:
    """Read a question once into its Profile; a question joining two asks ("who ... and when?") gets two parts."""
    kind = question_kind(question)
    all_terms = tuple(content_terms(question))
    explicit = focus_terms(question)
    pieces = [p for p in PART_SPLIT.split(question) if p.strip()] or [question]
    parts = []
    for i, piece in enumerate(pieces):
        own = content_terms(piece)
        asks_own = len(pieces) > 1 and bool(re.match(rf"\s*{WH}\b", piece, re.I))  # "..., and what crisis ...?"
        piece_kind = question_kind(piece)
        piece_kind = kind if piece_kind == "description" and not asks_own else piece_kind
        if len(own) < 2:  # "... and when?": the rest of the question says of what
            borrowed = [t for p in pieces if p is not piece for t in content_terms(p)]
        elif i > 0 and not asks_own:  # "... and at the side event": same asker
            borrowed = content_terms(re.split(r"\s(?:at|in|on|for|from|of|with|to|during)\s", pieces[0], maxsplit=1)[0])
        else:
            borrowed = []
        part_terms = tuple(dict.fromkeys(own + borrowed)) or all_terms
        asks_money = MONEY.search(piece) or MONEY_RU_KK.search(piece)
        money = piece_kind == "amount" and bool(asks_money) and not SHARE_ASKED.search(piece)
        focus = frozenset(explicit & set(part_terms))
        several = asks_several(piece, piece_kind)
        parts.append(Part(piece, piece_kind, part_terms, focus, counted_words(piece), money, several))
    seq = terms(question)
    definition = DEFINITION.match(question.strip())
    defines = definition.group(1).lower() if definition and kind == "description" else ""
    bigrams = frozenset(pairwise(seq))
    language = detect_language(question)
    return Profile(kind, all_terms, language, tuple(parts), bigrams, named_things(question), defines)
