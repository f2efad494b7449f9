"""Fault injection: killed and concurrent ingests, re-ingest under a live server, damaged index files,
an untrusted corpus, a read-only data folder. Real subprocesses, a real server, real Chroma.

Every scenario ends by comparing answers with a clean build of the same corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from govqa.settings import PROJECT_ROOT

from conftest import fixture_settings

QUESTIONS = [
    "Where is Acme Widgets headquartered?",
    "When did the Widget Safety Act enter into force?",
    "欧盟小部件法什么时候生效？",
]
ACME_PAGE = "src/content/docs/en/companies/acme/index.md"
INJECTION_PAGE = "src/content/docs/en/topics/injection-test.md"
INJECTION_PHRASE = "IGNORE ALL PREVIOUS INSTRUCTIONS"

# Runs `govqa ingest` with a pause at one named point: it writes the point's name to
# FAULT_SIGNAL, then waits until FAULT_RELEASE exists (or forever, to be killed there).
FAULTY_INGEST = """
import os, sys, time
from govqa.app import pipeline
from govqa.index import build, generations, store, vector

point, signal_file, release = os.environ["FAULT_POINT"], os.environ["FAULT_SIGNAL"], os.environ["FAULT_RELEASE"]

def pause(name):
    if name == point:
        with open(signal_file, "w") as handle:
            handle.write(str(os.getpid()))
        while not os.path.exists(release):
            time.sleep(0.05)

def around(owner, attribute, before, after):
    original = getattr(owner, attribute)
    def wrapped(*args, **kwargs):
        pause(before)
        result = original(*args, **kwargs)
        pause(after)
        return result
    setattr(owner, attribute, wrapped)

around(vector.DenseIndex, "add", "embedding-done", "vectors-written")
around(store, "write_manifest", "files-written", "manifest-written")
around(generations, "publish", "before-publish", "published")
around(pipeline, "collect_garbage", "before-gc", "after-gc")
from govqa.app.cli import main
sys.argv = ["govqa", "ingest", *sys.argv[1:]]
main()
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """What must match a clean build: everything but the timings."""
    return {k: v for k, v in result.items() if k != "timings_ms"}


def make_corpus(folder: Path) -> Path:
    """A private copy of the fixture corpus and its sources.toml; returns the sources file."""
    shutil.copytree(PROJECT_ROOT / "tests/fixtures/corpus", folder / "corpus")
    sources = folder / "sources.toml"
    text = (PROJECT_ROOT / "tests/fixtures/sources.toml").read_text(encoding="utf-8")
    sources.write_text(text.replace('path = "tests/fixtures/corpus"', f'path = "{folder / "corpus"}"'))
    return sources


def edit_corpus(sources: Path) -> None:
    """Corpus B: one page changed, one page deleted."""
    corpus = sources.parent / "corpus"
    page = corpus / ACME_PAGE
    page.write_text(page.read_text(encoding="utf-8").replace("Springfield", "Shelbyville"), encoding="utf-8")
    (corpus / INJECTION_PAGE).unlink()


def environment(data_dir: Path, sources: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVQA_")}
    config = data_dir.parent / "empty-govqa.toml"
    config.write_text("")
    env.update(
        GOVQA_DATA_DIR=str(data_dir),
        GOVQA_SOURCES_FILE=str(sources),
        GOVQA_EMBEDDER="fake",
        GOVQA_CONFIG=str(config),
        HF_HUB_OFFLINE="1",
        **extra,
    )
    return env


def govqa(env: dict[str, str], *args: str) -> Run:
    """The CLI in this process (a subprocess costs seconds of imports; real processes are used
    where processes are the point: kills, concurrent writers, the server, mounts)."""
    from typer.testing import CliRunner

    from govqa.app.cli import app

    result = CliRunner().invoke(app, list(args), env={k: v for k, v in env.items() if k.startswith("GOVQA_")})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def govqa_process(env: dict[str, str], *args: str) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "govqa.app.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    return Run(done.returncode, done.stdout, done.stderr)


def answers(env: dict[str, str]) -> list[dict[str, Any]]:
    """The answers to QUESTIONS from a freshly opened pipeline over the data folder in ``env``."""
    from chromadb.api.client import SharedSystemClient

    from govqa.app.pipeline import build_pipeline

    SharedSystemClient.clear_system_cache()  # reopen Chroma from disk, as a new process would
    settings = fixture_settings(Path(env["GOVQA_DATA_DIR"]), sources_file=Path(env["GOVQA_SOURCES_FILE"]))
    pipeline = build_pipeline(settings)
    try:
        return [comparable(pipeline.ask(q).to_json()) for q in QUESTIONS]
    finally:
        pipeline.close()


def one_line_error(done: Run | subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr[-2000:]
    return lines[0]


def index_dir(data_dir: Path) -> Path:
    return data_dir / "index" / "fake"


def generation_names(data_dir: Path) -> list[str]:
    folder = index_dir(data_dir) / "generations"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def current_generation(data_dir: Path) -> Path:
    name = json.loads((index_dir(data_dir) / "CURRENT").read_text())["generation"]
    return index_dir(data_dir) / "generations" / name


def check_store(data_dir: Path) -> None:
    """The current generation's Chroma holds exactly the manifest's chunks, each readable with its vector."""
    import chromadb

    folder = current_generation(data_dir)
    chunk_ids = [json.loads(line)["id"] for line in (folder / "chunks.jsonl").read_text().splitlines() if line]
    client = chromadb.PersistentClient(path=str(folder / "chroma"))
    try:
        (collection,) = client.list_collections()
        got = collection.get(ids=chunk_ids, include=["embeddings"])
        assert sorted(got["ids"]) == sorted(chunk_ids) and collection.count() == len(chunk_ids)
        assert got["embeddings"] is not None and len(got["embeddings"]) == len(chunk_ids)
    finally:
        client.close()  # type: ignore[attr-defined]  # chromadb's ClientAPI stub lacks close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Answers of clean builds of corpus A (the fixture) and corpus B (edited)."""
    expected = {}
    for name in ("A", "B"):
        root = tmp_path_factory.mktemp(f"clean-{name}")
        sources = make_corpus(root)
        if name == "B":
            edit_corpus(sources)
        env = environment(root / "data", sources)
        assert govqa(env, "ingest").returncode == 0
        expected[name] = answers(env)
    assert expected["A"] != expected["B"]  # the edit changes an answer, so the comparisons can fail
    return expected


@pytest.fixture
def built(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """(env, data_dir, sources) with corpus A ingested and no grace for retired generations."""
    sources = make_corpus(tmp_path)
    data_dir = tmp_path / "data"
    env = environment(data_dir, sources, GOVQA_GC_GRACE_SECONDS="0")
    done = govqa(env, "ingest")
    assert done.returncode == 0, done.stderr
    return env, data_dir, sources


def start_faulty_ingest(env: dict[str, str], point: str, folder: Path) -> tuple[subprocess.Popen[str], Path]:
    """A paused ingest at ``point``; returns the process and the file that releases it."""
    signal_file, release = folder / f"{point}.reached", folder / f"{point}.release"
    process = subprocess.Popen(
        [sys.executable, "-c", FAULTY_INGEST],
        env={**env, "FAULT_POINT": point, "FAULT_SIGNAL": str(signal_file), "FAULT_RELEASE": str(release)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not signal_file.exists():
        if process.poll() is not None:
            raise AssertionError(f"ingest ended before {point}: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"ingest never reached {point}"
        time.sleep(0.05)
    return process, release


# ---------------------------------------------------------------- killed and concurrent ingests


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "published"),
    [
        ("embedding-done", False),
        ("vectors-written", False),
        ("manifest-written", False),
        ("before-publish", False),
        ("published", True),
    ],
)
def test_kill_9_during_ingest_leaves_a_serving_index(
    point: str, published: bool, built: tuple[dict[str, str], Path, Path], clean: dict[str, Any], tmp_path: Path
) -> None:
    env, data_dir, sources = built
    edit_corpus(sources)
    process, _ = start_faulty_ingest(env, point, tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # The reader opens whatever the pointer names: the old corpus, or the new one once published.
    assert answers(env) == clean["B" if published else "A"]
    done = govqa_process(env, "ingest")  # the lock died with the killed writer
    assert done.returncode == 0, done.stderr
    assert answers(env) == clean["B"]
    assert generation_names(data_dir) == [current_generation(data_dir).name]  # leftovers collected
    check_store(data_dir)


@pytest.mark.slow
def test_two_concurrent_ingests_one_waits_and_the_index_is_clean(
    built: tuple[dict[str, str], Path, Path], clean: dict[str, Any], tmp_path: Path
) -> None:
    env, data_dir, sources = built
    edit_corpus(sources)
    first, release = start_faulty_ingest(env, "vectors-written", tmp_path)
    busy = one_line_error(govqa(env, "ingest"))
    assert busy.startswith(f"Error: another ingest holds the index (pid {first.pid})")
    waiting = subprocess.Popen(
        [sys.executable, "-m", "govqa.app.cli", "ingest", "--wait", "--rebuild"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    assert waiting.poll() is None  # queued behind the lock, not racing the first writer
    release.touch()
    assert first.wait(timeout=120) == 0, first.stderr.read()  # type: ignore[union-attr]
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "Rebuilt the whole index: asked for with --rebuild" in err
    assert answers(env) == clean["B"]
    check_store(data_dir)


def test_writer_lock_names_the_holder_and_readers_ignore_it(built: tuple[dict[str, str], Path, Path]) -> None:
    env, data_dir, _ = built
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from govqa.index.generations import writer_lock\n"
            "with writer_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        line = one_line_error(govqa(env, "ingest"))
        assert (
            line == f"Error: another ingest holds the index (pid {holder.pid}); rerun with --wait to queue behind it."
        )
        asked = govqa(env, "ask", "--json", QUESTIONS[0])
        assert asked.returncode == 0 and "Springfield" in json.loads(asked.stdout)["answer"]
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- re-ingest under a live server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(built: tuple[dict[str, str], Path, Path]) -> Iterator[tuple[str, dict[str, str], Path, Path]]:
    env, data_dir, sources = built
    serve_env = {**env, "GOVQA_GC_GRACE_SECONDS": "300"}
    port = _free_port()
    log = data_dir.parent / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "govqa.app.cli", "serve", "--port", str(port)],
        env=serve_env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "govqa serve did not start"
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    yield url, serve_env, data_dir, sources
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.slow
def test_ingest_during_serve_fails_no_request(
    server: tuple[str, dict[str, str], Path, Path], clean: dict[str, Any], tmp_path: Path
) -> None:
    from gradio_client import Client

    url, env, data_dir, sources = server
    client = Client(url, verbose=False)
    results: list[tuple[float, str]] = []
    failures: list[str] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                results.append((time.monotonic(), client.predict(QUESTIONS[0], api_name="/ask")["answer"]))
            except Exception as error:  # every failure is counted; none is allowed
                failures.append(repr(error))

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()
    time.sleep(1.0)
    edit_corpus(sources)
    started = time.monotonic()
    steps = [{}, {"GOVQA_CHUNKING_MAX_CHARS": "300"}, {}]  # incremental, full rebuild, full rebuild back
    published: list[float] = []
    for extra in steps:
        done = govqa_process({**env, **extra}, "ingest")
        assert done.returncode == 0, done.stderr
        published.append(time.monotonic())
    time.sleep(2.0)
    stop.set()
    asker.join(timeout=60)
    during = [answer for at, answer in results if started <= at <= published[-1]]
    first_new = next(at for at, answer in results if "Shelbyville" in answer)
    figures = {
        "requests_total": len(results),
        "requests_during_ingests": len(during),
        "failed": len(failures),
        "seconds_from_first_publish_to_new_answer": round(first_new - published[0], 2),
        "generations_kept": generation_names(data_dir),
    }
    print("ingest-during-serve", json.dumps(figures))
    assert failures == []
    assert len(during) >= 3  # the server answered while the ingests ran
    assert "Shelbyville" in results[-1][1] and first_new > started
    # The server's final answers equal a clean build of the new corpus.
    api = [comparable(client.predict(q, api_name="/ask")) for q in QUESTIONS]
    assert api == clean["B"]


# ---------------------------------------------------------------- damaged index files


def test_deleted_chroma_folder_is_an_error_then_ingest_repairs_without_embedding(
    built: tuple[dict[str, str], Path, Path], clean: dict[str, Any]
) -> None:
    env, data_dir, _ = built
    shutil.rmtree(current_generation(data_dir) / "chroma")
    line = one_line_error(govqa(env, "ask", QUESTIONS[0]))
    assert "the vector store holds 0 vectors where the manifest lists" in line and "govqa ingest --rebuild" in line
    done = govqa(env, "ingest", "--json")
    report = json.loads(done.stdout)
    assert report["rebuilt_because"].startswith("the vector store holds 0 vectors")
    assert report["embedded_chunks"] == 0  # vectors copied forward from vectors.npy
    assert answers(env) == clean["A"]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"null", "not a JSON object"),
        (b"[1,2]", "not a JSON object"),
        (b"\xa9\xff\x00binary", "unreadable index manifest (UnicodeDecodeError)"),
        (b'{"version": 1, "documents": ', "unreadable index manifest (JSONDecodeError)"),
        (b'{"version": 99}', "index manifest version 99"),
    ],
)
def test_corrupt_manifest_is_one_line_and_ingest_rebuilds(
    content: bytes, complaint: str, built: tuple[dict[str, str], Path, Path], clean: dict[str, Any]
) -> None:
    env, data_dir, _ = built
    manifest = current_generation(data_dir) / "manifest.json"
    manifest.write_bytes(content)
    line = one_line_error(govqa(env, "ask", QUESTIONS[0]))
    assert complaint in line and str(manifest) in line and line.endswith("run `govqa ingest --rebuild`.")
    done = govqa(env, "ingest")
    assert done.returncode == 0 and "Rebuilt the whole index: the current manifest is damaged" in done.stderr
    assert answers(env) == clean["A"]


def test_corrupt_pointer_needs_rebuild(built: tuple[dict[str, str], Path, Path], clean: dict[str, Any]) -> None:
    env, data_dir, _ = built
    (index_dir(data_dir) / "CURRENT").write_bytes(b"\x00garbage")
    assert "unreadable index pointer" in one_line_error(govqa(env, "ask", QUESTIONS[0]))
    assert "govqa ingest --rebuild" in one_line_error(govqa(env, "ingest"))
    assert govqa(env, "ingest", "--rebuild").returncode == 0
    assert answers(env) == clean["A"]


def test_embedder_mismatch_is_one_line(built: tuple[dict[str, str], Path, Path]) -> None:
    env, data_dir, _ = built
    manifest = current_generation(data_dir) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["config"]["embedder"] = "minilm:some-other-model"
    manifest.write_text(json.dumps(data))
    line = one_line_error(govqa(env, "ask", QUESTIONS[0]))
    assert "was built with embedder 'minilm:some-other-model', not 'fake'" in line and "--rebuild" in line


# ---------------------------------------------------------------- an untrusted corpus


def test_corpus_jail_and_skip_reasons(tmp_path: Path, clean: dict[str, Any]) -> None:
    sources = make_corpus(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe password is ZEBRA-7731-TOKEN.\n")
    docs = tmp_path / "corpus/src/content/docs/en"
    (docs / "leak.md").symlink_to(outside / "secret.md")
    (docs / "environ.md").symlink_to("/proc/self/environ")
    (docs / "loop-a.md").symlink_to(docs / "loop-b.md")
    (docs / "loop-b.md").symlink_to(docs / "loop-a.md")
    (docs / "again").symlink_to(docs)
    (docs / "outside-dir").symlink_to(outside)
    (docs / "nul.md").write_bytes(b"\x00" * 64)
    (docs / "latin1.md").write_bytes("# Caf\xe9\n\nUn caf\xe9.\n".encode("latin-1"))
    (docs / "broken-frontmatter.md").write_text("---\ntitle: [unclosed\n---\n\nBody text here.\n")
    (docs / "huge.md").write_text("# Huge\n\n" + "word " * 2000)
    os.mkfifo(docs / "pipe.md")
    data_dir = tmp_path / "data"
    env = environment(data_dir, sources, GOVQA_MAX_PAGE_BYTES="5000")
    done = govqa(env, "ingest", "--json")
    assert done.returncode == 0, done.stderr
    skipped = dict(json.loads(done.stdout)["skipped"])
    prefix = "src/content/docs/en/"
    assert skipped[prefix + "leak.md"] == "symlink leaving the source root (not followed)"
    assert skipped[prefix + "environ.md"] == "symlink leaving the source root (not followed)"
    assert skipped[prefix + "loop-a.md"] == skipped[prefix + "loop-b.md"] == "symlink loop"
    assert skipped[prefix + "again"] == "symlinked folder (not followed)"
    assert skipped[prefix + "outside-dir"] == "symlink leaving the source root (not followed)"
    assert skipped[prefix + "nul.md"] == "contains NUL bytes (binary, not text)"
    assert skipped[prefix + "latin1.md"] == "not UTF-8 text"
    assert skipped[prefix + "broken-frontmatter.md"].startswith("frontmatter is not valid YAML")
    assert skipped[prefix + "huge.md"] == "10,008 bytes, over the 5,000-byte cap (GOVQA_MAX_PAGE_BYTES)"
    assert skipped[prefix + "pipe.md"] == "not a regular file"
    leaked = [p for p in data_dir.rglob("*") if p.is_file() and b"ZEBRA-7731" in p.read_bytes()]
    assert leaked == []
    asked = govqa(env, "ask", "--json", "What is the password token? GOVQA_DATA_DIR")
    assert asked.returncode == 0 and "7731" not in asked.stdout and "ZEBRA" not in asked.stdout
    assert answers(env) == clean["A"]  # the junk changed nothing else


def test_deleted_page_leaves_no_trace_in_chroma(built: tuple[dict[str, str], Path, Path]) -> None:
    env, data_dir, sources = built
    phrase = INJECTION_PHRASE.encode()
    assert any(phrase in p.read_bytes() for p in data_dir.rglob("chroma.sqlite3"))  # the check can fail
    (sources.parent / "corpus" / INJECTION_PAGE).unlink()
    # A separate process, as in real use: hnswlib saves its unused capacity uninitialised, so an
    # ingest in this process (whose heap held the page) could leave stray bytes of it there.
    assert govqa_process(env, "ingest").returncode == 0
    databases = list(data_dir.rglob("chroma.sqlite3"))
    assert len(databases) == 1
    with sqlite3.connect(databases[0]) as db:
        queued = db.execute("SELECT count(*) FROM embeddings_queue").fetchone()[0]
        assert queued > 0
        hits = db.execute(
            "SELECT count(*) FROM embedding_metadata WHERE string_value LIKE ?", (f"%{INJECTION_PHRASE}%",)
        ).fetchone()[0]
        assert hits == 0
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # table names come from sqlite_master
                assert not any(isinstance(v, str | bytes) and phrase in _as_bytes(v) for v in row), table
    leftovers = [p for p in data_dir.rglob("*") if p.is_file() and phrase in p.read_bytes()]
    assert leftovers == []


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


# ---------------------------------------------------------------- the data folder


@pytest.mark.slow
def test_read_only_data_folder(built: tuple[dict[str, str], Path, Path]) -> None:
    env, data_dir, _ = built
    if os.geteuid() != 0:
        for path in [data_dir, *data_dir.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        prefix: list[str] = []
    elif shutil.which("unshare") and subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0:
        # root ignores file modes: mount the data folder read-only in a private mount namespace
        prefix = ["unshare", "-m", "sh", "-c", f'mount --bind -o ro "{data_dir}" "{data_dir}" && exec "$@"', "sh"]
    else:
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    run = [*prefix, sys.executable, "-m", "govqa.app.cli"]
    ingest = subprocess.run([*run, "ingest"], env=env, capture_output=True, text=True, timeout=300)
    assert "is read-only in GOVQA_DATA_DIR" in one_line_error(ingest)
    ask = subprocess.run([*run, "ask", QUESTIONS[0]], env=env, capture_output=True, text=True, timeout=300)
    assert "GOVQA_DATA_DIR must be a writable folder" in one_line_error(ask)
    if os.geteuid() != 0:
        for path in [data_dir, *data_dir.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


def test_data_folder_that_is_a_file(tmp_path: Path) -> None:
    sources = make_corpus(tmp_path)
    (tmp_path / "data").write_text("not a folder")
    env = environment(tmp_path / "data", sources)
    for command in (["ingest"], ["ask", QUESTIONS[0]]):
        line = one_line_error(govqa(env, *command))
        assert line == f"Error: the data folder {tmp_path / 'data'} is a file in GOVQA_DATA_DIR; point it at a folder."


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ({"GOVQA_CONFIG_TEXT": "data_dir = [\n"}, "invalid TOML"),
        ({"GOVQA_CONFIG_BYTES": "\xa9"}, "the config file is not UTF-8 text"),
        ({"GOVQA_RETRIEVAL_LEGS": "bm25"}, "cannot parse GOVQA_RETRIEVAL_LEGS=bm25 in the environment"),
        ({"GOVQA_CHUNKING_MAX_CHARS": "12"}, "setting chunking.max_chars"),
        ({"GOVQA_CONFIG": "/no/such/govqa.toml"}, "GOVQA_CONFIG names /no/such/govqa.toml, which is not a file"),
    ],
)
def test_configuration_mistakes_are_one_line(setting: dict[str, str], complaint: str, tmp_path: Path) -> None:
    env = environment(tmp_path / "data", make_corpus(tmp_path))
    setting = dict(setting)
    if "GOVQA_CONFIG_TEXT" in setting or "GOVQA_CONFIG_BYTES" in setting:
        config = tmp_path / "govqa.toml"
        text = setting.pop("GOVQA_CONFIG_TEXT", "")
        raw = setting.pop("GOVQA_CONFIG_BYTES", "")
        config.write_bytes(text.encode() + raw.encode("latin-1"))
        setting["GOVQA_CONFIG"] = str(config)
    for command in (["ingest"], ["ask", "x"], ["serve"]):
        line = one_line_error(govqa({**env, **setting}, *command))
        assert complaint in line, line


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--port", "70000"], "port 70000 is out of range"),
        (["--host", "999.1.1.1"], "host '999.1.1.1' is not an address of this machine"),
        (["--port", "BUSY"], "(Address already in use)"),
    ],
)
def test_server_address_mistakes_are_one_line(args: list[str], complaint: str, tmp_path: Path) -> None:
    env = environment(tmp_path / "data", make_corpus(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = [str(busy.getsockname()[1]) if a == "BUSY" else a for a in args]
        line = one_line_error(govqa(env, "serve", *args))
    assert complaint in line and "GOVQA_SERVER" in line
    assert not (tmp_path / "data").exists()  # checked before any index work


def test_empty_dense_leg_is_counted_and_logged(
    built: tuple[dict[str, str], Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A vector store emptied under a running pipeline: the dense leg's silence is counted, not hidden."""
    from govqa.app.pipeline import build_pipeline

    env, data_dir, _ = built
    pipeline = build_pipeline(fixture_settings(data_dir, sources_file=Path(env["GOVQA_SOURCES_FILE"])))
    timings: dict[str, float] = {}
    assert pipeline.retriever.search(QUESTIONS[1], timings=timings) and "empty_legs" not in timings
    dense = pipeline.index.dense
    assert dense is not None
    dense.delete_documents(sorted({chunk.doc_id for chunk in pipeline.index.chunks.values()}))
    with caplog.at_level("WARNING", logger="govqa.index.retriever"):
        results = pipeline.retriever.search(QUESTIONS[1], timings=timings)
    assert timings["empty_legs"] == 1 and all("dense" not in r.legs for r in results)
    assert "retrieval_leg_empty leg=dense filtered=False" in caplog.text
    pipeline.close()


def test_gc_keeps_retired_generations_for_the_grace_period(tmp_path: Path) -> None:
    sources = make_corpus(tmp_path)
    data_dir = tmp_path / "data"
    env = environment(data_dir, sources)  # default grace: 300 s
    assert govqa(env, "ingest").returncode == 0
    edit_corpus(sources)
    assert govqa(env, "ingest").returncode == 0
    assert generation_names(data_dir) == ["g-000001", "g-000002"]
    assert (index_dir(data_dir) / "generations/g-000001/RETIRED").is_file()
    kept = govqa(env, "gc")
    assert kept.returncode == 0 and "Nothing to remove." in kept.stderr
    purged = govqa(env, "gc", "--now")
    assert purged.returncode == 0 and "Removed 1: g-000001" in purged.stderr
    assert generation_names(data_dir) == ["g-000002"]
    # (HNSW files are left out here: this process's heap held the page; see the test above.)
    stores = [*data_dir.rglob("*.sqlite3"), *data_dir.rglob("*.jsonl")]
    assert stores and not any(INJECTION_PHRASE.encode() in p.read_bytes() for p in stores)
