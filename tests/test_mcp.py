"""`assistant mcp` over stdio, driven by the official MCP SDK's own client: list the tools, call both."""

import asyncio
import json
import os
import sys

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import PROJECT_ROOT, copied

pytestmark = pytest.mark.slow


def server_params(root, corpus_index) -> StdioServerParameters:
    copied(corpus_index, root, "index", "index-cache")
    env = os.environ | {
        "INDEX_DIR": str(root / "index"),
        "UPLOADS_DIR": str(root / "uploads"),
        "ANSWERER": "offline",
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
    }
    cli = ["-m", "assistant.cli", "--env-file", str(root / "none.env"), "mcp"]
    return StdioServerParameters(command=sys.executable, args=cli, env=env, cwd=str(PROJECT_ROOT))


async def session(params: StdioServerParameters) -> dict:
    """Everything the test checks, gathered in one client session (one server start)."""
    async with Client(params, read_timeout_seconds=120) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        return {
            "tools": tools,
            "answer": await client.call_tool("ask", {"question": "Who launched the Central Asian Alliance?"}),
            "abstain": await client.call_tool("ask", {"question": "What is the capital of France?"}),
            "filtered": await client.call_tool(
                "ask", {"question": "Who launched the Central Asian Alliance?", "until": "2022"}
            ),
            "bad_date": await client.call_tool("ask", {"question": "Who?", "since": "yesterday"}),
            "search": await client.call_tool("search_stories", {"query": "land degradation", "limit": 2}),
            "search_kk": await client.call_tool("search_stories", {"query": "Kazakhstan", "language": "kk"}),
        }


def test_mcp_client_lists_and_calls_both_tools(tmp_path, corpus_index):
    got = asyncio.run(session(server_params(tmp_path, corpus_index)))
    ask, search = got["tools"]["ask"], got["tools"]["search_stories"]
    assert set(got["tools"]) == {"ask", "search_stories"}
    assert {"question", "since", "until", "language"} <= set(ask.input_schema["properties"])
    assert ask.input_schema["required"] == ["question"] and search.input_schema["required"] == ["query"]
    assert {"answer", "abstained", "citations"} <= set(ask.output_schema["properties"])

    answer = got["answer"].structured_content
    assert not got["answer"].is_error and "Spotlight" in answer["answer"] and answer["abstained"] is False
    cited = answer["citations"][0]
    assert cited["title"].startswith("Uniting for Progress") and cited["quote"] in answer["answer"]
    assert json.loads(got["answer"].content[0].text) == answer  # the same as text, for clients without structure

    abstain = got["abstain"].structured_content
    assert abstain["abstained"] is True and abstain["citations"] == []
    filtered = got["filtered"].structured_content["citations"]  # the alliance story (2023) is out of reach
    assert all(c["date"] and c["date"] <= "2022-12-31" for c in filtered)

    assert got["bad_date"].is_error and "since date 'yesterday'" in got["bad_date"].content[0].text
    assert "exit code 2" in got["bad_date"].content[0].text

    hits = got["search"].structured_content["stories"]
    assert len(hits) == 2 and [h["rank"] for h in hits] == [1, 2] and "degrad" in hits[0]["passage"].lower()
    kk = got["search_kk"].structured_content["stories"]
    assert kk and all(h["language"] == "kk" for h in kk)
