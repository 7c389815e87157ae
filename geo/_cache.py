"""A small on-disk cache for derived geometry that depends only on its inputs.

Building the bands and fitting the provinces to the outline costs about a
second each run and depends only on the boundary geometry, the band edges and
geo's version; the result is cached under ``$GEO_CACHE_DIR`` (default
``~/.cache/geo``), keyed by a sha256 of all of those.  ``GEO_CACHE=0``
turns the cache off.  A cache file that cannot be read is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off."""
    if os.environ.get("GEO_CACHE", "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    base = os.environ.get("GEO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "geo"
    )
    return Path(base)


def source_key(*modules: str) -> bytes:
    """The source of geo's modules a cached value depends on, for its key (a code change misses)."""
    here = Path(__file__).resolve().parent
    return b"".join((here / f"{m}.py").read_bytes() for m in modules)


def _path(where: Path, name: str, key_parts: list[bytes]) -> Path:
    digest = hashlib.sha256()
    for part in key_parts:
        digest.update(hashlib.sha256(part).digest())
    return where / f"{name}-{digest.hexdigest()[:32]}.pickle"


def lookup(name: str, key_parts: list[bytes]) -> Any:
    """The cached value for this key, or None."""
    where = cache_dir()
    if where is None:
        return None
    path = _path(where, name, key_parts)
    if path.exists():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # a stale or truncated entry: rebuild it
            path.unlink(missing_ok=True)
    return None


def cached(name: str, key_parts: list[bytes], build: Callable[[], T]) -> T:
    """Return ``build()``, from the cache when an entry with the same key exists."""
    hit = lookup(name, key_parts)
    if hit is not None:
        return hit
    value = build()
    store((name, key_parts), value)
    return value


def store(key: tuple[str, list[bytes]], value: object) -> None:
    """Keep ``value`` under ``key`` (name, key parts), atomically; a read-only cache is no error."""
    where = cache_dir()
    if where is None:
        return
    name, key_parts = key
    path = _path(where, name, key_parts)
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is no reason to fail an analysis
