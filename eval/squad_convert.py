"""SQuAD 2.0 articles -> story files and Q&A files, split by article into train / dev / test.

Source: the SQuAD 2.0 development set (Rajpurkar, Jia and Liang, "Know What You Don't
Know: Unanswerable Questions for SQuAD", ACL 2018; CC BY-SA 4.0), eight articles kept in
`shared/external/squad-v2.0-dev-8-articles.json`. Each article becomes one plain story
file (title line, blank line, paragraphs), exactly as a user would save a Wikipedia page,
and its questions go to the split's Q&A file in the project's format:

- answerable: `must_contain` is one group holding every distinct gold answer (any one
  passes), matched with SQuAD's own answer normalisation (`match: squad`);
- unanswerable (`is_impossible`): `abstain: true`.

The split is by article, so no paragraph of a dev or test article is ever trained on.
Run `python eval/squad_convert.py [SOURCE_JSON]`; the output is deterministic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "external" / "squad-v2.0-dev-8-articles.json"
OUT = HERE / "squad"
SPLITS = {
    "train": ("Yuan_dynasty", "Immune_system", "Islamism", "Imperialism", "Force"),
    "dev": ("Warsaw",),
    "test": ("Scottish_Parliament", "French_and_Indian_War"),
}
HEADER = (
    "# SQuAD 2.0 questions ({split} split), converted by eval/squad_convert.py; do not edit by hand.\n"
    "# Source: Rajpurkar, Jia & Liang (2018), SQuAD 2.0 development set, CC BY-SA 4.0.\n"
    "# Articles: {articles}.\n"
)


def story_file(article: dict) -> str:
    """An article as a plain story file: its title, a blank line, then each paragraph with whitespace collapsed."""
    title = article["title"].replace("_", " ")
    paragraphs = [" ".join(p["context"].split()) for p in article["paragraphs"]]
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def cases(article: dict) -> list[dict]:
    """The article's questions as Q&A cases (see the module docstring for answerable and unanswerable ones).

    Gold answers are deduplicated in their first order, so equal alternatives are listed once.
    """
    title = article["title"].replace("_", " ")
    out = []
    for paragraph in article["paragraphs"]:
        for qa in paragraph["qas"]:
            case: dict = {"id": qa["id"], "tags": [], "question": " ".join(qa["question"].split())}
            if qa.get("is_impossible"):
                case["tags"] = ["unanswerable"]
                case["expect"] = {"abstain": True}
            else:
                golds = list(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                case["expect"] = {"must_contain": [golds], "sources": [title], "match": "squad"}
            out.append(case)
    return out


def convert(source: Path, out: Path = OUT) -> dict[str, int]:
    """Write each split's story files (replacing old ones) and Q&A file under `out`; questions per split."""
    articles = {a["title"]: a for a in json.loads(source.read_text(encoding="utf-8"))["data"]}
    counts = {}
    for split, names in SPLITS.items():
        folder = out / split / "corpus"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.txt"):
            old.unlink()
        rows: list[dict] = []
        for name in names:
            (folder / f"{name}.txt").write_text(story_file(articles[name]), encoding="utf-8")
            rows += cases(articles[name])
        text = HEADER.format(split=split, articles=", ".join(names))
        text += yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=1000)
        (out / f"{split}.yaml").write_text(text, encoding="utf-8")
        counts[split] = len(rows)
    return counts


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    for split, n in convert(src).items():
        print(f"{split}: {n} questions")
