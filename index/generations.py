"""Index generations: every ingest builds a complete new folder and publishes it with one pointer write.

Layout of ``<data_dir>/index/<embedder>/``::

    CURRENT                  {"generation": "g-000007"}: the one readers open (replaced atomically)
    generations/g-000007/    manifest.json, documents.jsonl, chunks.jsonl, vectors.npy, bm25/, chroma/
    generations/g-000006/    the previous one, with a RETIRED file saying when it stopped being current

A generation is never changed after it is published, so a reader that opened one keeps a
consistent view however many ingests run meanwhile. A killed ingest leaves only an
unpublished folder, which the next writer deletes; the pointer still names the last
complete generation. Writers (ingest, gc) hold :func:`writer_lock`; readers never do.

Readers follow re-ingests with :class:`GenerationWatch`: one ``stat`` of ``CURRENT`` tells
whether a new generation was published since the last look.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

POINTER = "CURRENT"
RETIRED = "RETIRED"
GENERATIONS = "generations"
LOCK_NAME = "writer.lock"
# What an index folder held before generations; gc removes it once a generation is current.
LEGACY_ENTRIES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "bm25", "chroma")


class IndexStateError(RuntimeError):
    """The index folder cannot be used as it is; the message names the file and the fix."""


class WriterBusyError(RuntimeError):
    """Another process holds the writer lock."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_name(index_dir: Path) -> str | None:
    """The published generation's name, or None when nothing was ever published."""
    pointer = index_dir / POINTER
    try:
        raw = pointer.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise IndexStateError(f"{pointer} is a folder; remove it and run `govqa ingest --rebuild`.") from None
    except NotADirectoryError:
        raise IndexStateError(f"a file stands where a folder belongs in {pointer}; check GOVQA_DATA_DIR.") from None
    except PermissionError:
        raise IndexStateError(f"no permission to read {pointer}; check GOVQA_DATA_DIR's permissions.") from None
    try:
        name = json.loads(raw.decode("utf-8"))["generation"]
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        name = None
    if not isinstance(name, str) or not name.startswith("g-") or "/" in name:
        raise IndexStateError(f"unreadable index pointer in {pointer}; run `govqa ingest --rebuild`.")
    return name


def _current_or_none(index_dir: Path) -> str | None:
    """For writers replacing it: a damaged pointer counts as none."""
    try:
        return current_name(index_dir)
    except IndexStateError:
        return None


def current_dir(index_dir: Path) -> Path | None:
    """The folder of the published generation (None when there is none yet)."""
    name = current_name(index_dir)
    if name is None:
        return None
    folder = index_dir / GENERATIONS / name
    if not folder.is_dir():
        raise IndexStateError(
            f"the index pointer {index_dir / POINTER} names {name}, which is missing; run `govqa ingest --rebuild`."
        )
    return folder


def pointer_stamp(index_dir: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the pointer file: changes whenever a generation is published."""
    try:
        status = os.stat(index_dir / POINTER)
    except FileNotFoundError:
        return None
    return (status.st_ino, status.st_mtime_ns)


def new_generation(index_dir: Path) -> Path:
    """Create the folder of the next generation (call under the writer lock)."""
    parent = index_dir / GENERATIONS
    parent.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[2:]) for p in parent.iterdir() if p.name.startswith("g-") and p.name[2:].isdigit()]
    current = _current_or_none(index_dir)
    if current and current[2:].isdigit():
        numbers.append(int(current[2:]))
    folder = parent / f"g-{max(numbers, default=0) + 1:06d}"
    folder.mkdir()
    return folder


def publish(index_dir: Path, generation: Path) -> None:
    """Make ``generation`` current with one atomic rename; the old one is marked retired."""
    previous = _current_or_none(index_dir)
    tmp = index_dir / (POINTER + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump({"generation": generation.name, "published": time.time()}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(generation)
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)
    if previous and previous != generation.name:
        retired = index_dir / GENERATIONS / previous
        if retired.is_dir():
            (retired / RETIRED).write_text(str(time.time()), encoding="utf-8")
    logger.info("published generation=%s previous=%s", generation.name, previous)


def collect_garbage(
    index_dir: Path,
    grace_seconds: float,
    now: float | None = None,
    on_remove: Callable[[Path], None] | None = None,
) -> list[str]:
    """Delete what no reader can need (call under the writer lock); returns what was removed.

    - unpublished generations: left by a killed or failed ingest, never opened by a reader;
    - retired generations older than the grace period: readers swap to the new generation
      before their next request, so only a request already running can still use one;
    - the pre-generation layout, once a generation is current.

    ``on_remove(folder)`` runs before a generation's folder goes (to drop what it keeps elsewhere).
    """
    now = time.time() if now is None else now
    current = _current_or_none(index_dir)
    removed: list[str] = []
    parent = index_dir / GENERATIONS
    for folder in sorted(parent.iterdir()) if parent.is_dir() else []:
        if folder.name == current:
            continue
        marker = folder / RETIRED
        if marker.is_file():
            try:
                retired_at = float(marker.read_text(encoding="utf-8"))
            except ValueError:
                retired_at = 0.0
            if now - retired_at < grace_seconds:
                continue
        if on_remove is not None:
            try:
                on_remove(folder)
            except Exception:  # a server collection that is already gone must not stop gc
                logger.warning("gc_on_remove_failed generation=%s", folder.name, exc_info=True)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    if current is not None:
        for entry in LEGACY_ENTRIES:
            path = index_dir / entry
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(entry)
            elif path.exists():
                path.unlink()
                removed.append(entry)
    if removed:
        logger.info("gc removed=%s", ",".join(removed))
    return removed


def check_data_dir(data_dir: Path, writable: bool) -> None:
    """One-line errors for a data folder that is a file, or that a writer cannot write."""
    if data_dir.exists() and not data_dir.is_dir():
        raise IndexStateError(f"the data folder {data_dir} is a file in GOVQA_DATA_DIR; point it at a folder.")
    if not writable:
        return
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise IndexStateError(
            f"cannot create the data folder {data_dir} ({error.strerror}) in GOVQA_DATA_DIR; point it at a writable folder."
        ) from None
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise IndexStateError(
            f"the data folder {data_dir} is read-only in GOVQA_DATA_DIR; make it writable or point it elsewhere."
        )


@contextmanager
def writer_lock(data_dir: Path, wait: bool = False) -> Iterator[None]:
    """The data folder's single-writer lock (ingest, rebuild, gc); readers never take it.

    Without ``wait`` a held lock raises :class:`WriterBusyError` naming the holder's pid.
    The lock is an OS-level lock (filelock), so a killed writer releases it.
    """
    from filelock import FileLock, Timeout

    check_data_dir(data_dir, writable=True)
    lock = FileLock(str(data_dir / LOCK_NAME))
    pid_file = data_dir / (LOCK_NAME + ".pid")
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:  # before OSError: filelock.Timeout is a TimeoutError
        try:
            holder = pid_file.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise WriterBusyError(
            f"another ingest holds the index (pid {holder}); rerun with --wait to queue behind it."
        ) from None
    except OSError as error:
        raise IndexStateError(
            f"cannot lock the data folder {data_dir} ({error.strerror or error}); set GOVQA_DATA_DIR to a writable folder."
        ) from None
    try:
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        lock.release()


class GenerationWatch:
    """Tells a long-running reader when a new generation was published.

    ``changed()`` costs one ``stat``; call it before each request and reopen when it is true.
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.stamp = pointer_stamp(index_dir)

    def changed(self) -> bool:
        return pointer_stamp(self.index_dir) != self.stamp

    def seen(self, stamp: tuple[int, int] | None) -> None:
        self.stamp = stamp
