"""An on-disk cache of derived geometry, in a format that can hold data only.

Building the bands and fitting the provinces to the outline costs over a
second each run and depends only on the boundary geometry, the band edges and
geo's code.  The result is kept under ``$GEO_CACHE_DIR`` (default
``$XDG_CACHE_HOME/geo`` or ``~/.cache/geo``); ``GEO_CACHE=0`` turns it off.

Why a cache entry cannot run code, and what is trusted:

- An entry is a header line, the sha256 of its body, and a body of plain
  data: a JSON manifest, well-known binary (WKB) geometries, raw numeric
  arrays and GeoParquet/Parquet tables.  No pickle, no object is ever
  reconstructed from a name written in the file.
- An entry is used only if it is a regular file (not a symlink), owned by
  the user running geo and writable by nobody else, and its body hashes to
  the sha256 in its header.  Anything else - another user's file, a flipped
  byte, a truncated write, a directory or a link in its place - is ignored,
  logged, and rebuilt.
- Entries are keyed by a sha256 of the inputs, of geo's version and of the
  source of every module of the package, so a changed geo never reads an
  entry written by another one.
- Writes go to a temporary file renamed into place; temporaries left by a
  killed run or a full disk are removed by the next write.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

T = TypeVar("T")
log = logging.getLogger("geo")

MAGIC = b"GEOCACHE 2\n"
SUFFIX = ".geocache"
#: Temporaries older than this, s, are leftovers of a killed run (a live write takes well under a minute).
STALE_TMP_S = 600.0


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off (``GEO_CACHE=0``)."""
    if os.environ.get("GEO_CACHE", "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    from platformdirs import user_cache_dir

    # ~/.cache/geo on Linux (XDG_CACHE_HOME respected), ~/Library/Caches/geo on macOS, %LOCALAPPDATA% on Windows.
    return Path(os.environ.get("GEO_CACHE_DIR") or user_cache_dir("geo", appauthor=False))


@lru_cache(maxsize=1)
def code_key() -> bytes:
    """geo's version and the source of all its modules: any change of code is a cache miss."""
    from geo._version import geo_version

    digest = hashlib.sha256(geo_version().encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _path(where: Path, name: str, key_parts: list[bytes]) -> Path:
    digest = hashlib.sha256(code_key())
    for part in key_parts:
        digest.update(hashlib.sha256(part).digest())
    return where / f"{name}-{digest.hexdigest()[:40]}{SUFFIX}"


# ------------------------------------------------------------------ encoding (data only)


def _encode(value: Any, blobs: list[bytes]) -> dict:
    def blob(data: bytes) -> int:
        blobs.append(data)
        return len(blobs) - 1

    if value is None or isinstance(value, (bool, str)):
        return {"k": "json", "v": value}
    if isinstance(value, (int, np.integer)):
        return {"k": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"k": "float", "v": repr(float(value))}
    if isinstance(value, dict):
        return {"k": "dict", "items": [[_encode(k, blobs), _encode(v, blobs)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"k": "list" if isinstance(value, list) else "tuple", "items": [_encode(v, blobs) for v in value]}
    if isinstance(value, pd.DataFrame):
        # Geometry held in plain object columns travels as WKB; the active geometry as GeoParquet.
        active = value.geometry.name if isinstance(value, gpd.GeoDataFrame) else None
        wkb_cols = [c for c in value.columns if c != active and _holds_geometry(value[c])]
        frame = value.assign(**{c: shapely.to_wkb(value[c].to_numpy()) for c in wkb_cols}) if wkb_cols else value
        buf = io.BytesIO()
        frame.to_parquet(buf, index=True)
        return {"k": "gdf" if active else "df", "b": blob(buf.getvalue()), "wkb": [str(c) for c in wkb_cols]}
    if isinstance(value, shapely.Geometry):
        return {"k": "geom", "b": blob(shapely.to_wkb(value))}
    if isinstance(value, np.ndarray) and value.dtype == object:
        wkb = shapely.to_wkb(value)  # raises on anything but geometries and None
        sizes = [-1 if w is None else len(w) for w in wkb.tolist()]
        return {"k": "geoms", "b": blob(b"".join(w for w in wkb.tolist() if w is not None)), "sizes": sizes}
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return {"k": "nd", "dtype": arr.dtype.str, "shape": list(arr.shape), "b": blob(arr.tobytes())}
    raise TypeError(f"geo's cache cannot hold a {type(value).__name__}")


def _decode(node: dict, blobs: list[bytes]) -> Any:
    kind = node["k"]
    if kind == "json":
        return node["v"]
    if kind == "int":
        return int(node["v"])
    if kind == "float":
        return float(node["v"])
    if kind == "dict":
        return {_decode(k, blobs): _decode(v, blobs) for k, v in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(v, blobs) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    if kind in ("gdf", "df"):
        read = gpd.read_parquet if kind == "gdf" else pd.read_parquet
        frame = read(io.BytesIO(blobs[node["b"]]))
        for col in node.get("wkb", []):
            frame[col] = shapely.from_wkb(frame[col].to_numpy())
        return frame
    if kind == "geom":
        return shapely.from_wkb(blobs[node["b"]])
    if kind == "geoms":
        data, out, pos = blobs[node["b"]], np.empty(len(node["sizes"]), dtype=object), 0
        for i, size in enumerate(node["sizes"]):
            if size >= 0:
                out[i] = data[pos : pos + size]
                pos += size
        present = np.array([s >= 0 for s in node["sizes"]], dtype=bool)
        result = np.full(len(out), None, dtype=object)
        if present.any():
            result[present] = shapely.from_wkb(out[present])
        return result
    if kind == "nd":
        dtype = np.dtype(node["dtype"])
        if dtype.hasobject:
            raise ValueError("object arrays are not data")
        return np.frombuffer(blobs[node["b"]], dtype=dtype).reshape(node["shape"]).copy()
    raise ValueError(f"unknown entry kind {kind!r}")


def _holds_geometry(column: pd.Series) -> bool:
    if column.dtype != object:
        return False
    values = column.dropna().to_numpy()
    return len(values) > 0 and all(isinstance(v, shapely.Geometry) for v in values)


def dumps(value: Any) -> bytes:
    """Serialise ``value`` (frames, geometries, arrays, plain values) into a cache entry."""
    blobs: list[bytes] = []
    manifest = json.dumps(_encode(value, blobs), separators=(",", ":")).encode()
    body = io.BytesIO()
    for part in (manifest, *blobs):
        body.write(len(part).to_bytes(8, "little"))
        body.write(part)
    data = body.getvalue()
    return MAGIC + hashlib.sha256(data).hexdigest().encode() + b"\n" + data


def loads(entry: bytes) -> Any:
    """The value in a cache entry; ``ValueError`` if it is not an intact entry of this format."""
    head = len(MAGIC)
    if not entry.startswith(MAGIC) or len(entry) < head + 65 or entry[head + 64 : head + 65] != b"\n":
        raise ValueError("not a geo cache entry")
    data = entry[head + 65 :]
    if hashlib.sha256(data).hexdigest().encode() != entry[head : head + 64]:
        raise ValueError("checksum mismatch")
    parts, pos = [], 0
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("truncated entry")
        size = int.from_bytes(data[pos : pos + 8], "little")
        pos += 8
        if pos + size > len(data):
            raise ValueError("truncated entry")
        parts.append(data[pos : pos + size])
        pos += size
    if not parts:
        raise ValueError("empty entry")
    return _decode(json.loads(parts[0]), parts[1:])


# ------------------------------------------------------------------ trust and files


def _untrusted(st: os.stat_result) -> str | None:
    """Why an entry may not be used, or None."""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return "owned by another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "writable by other users"
    return None


def lookup(name: str, key_parts: list[bytes]) -> Any:
    """The cached value for this key, or None (missing, untrusted or damaged entries are rebuilt)."""
    where = cache_dir()
    if where is None:
        return None
    path = _path(where, name, key_parts)
    try:
        st = os.lstat(path)
    except OSError:
        return None
    why = _untrusted(st)
    if why is None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as fh:
                # The open file is checked again: the name could have been swapped since lstat.
                why = _untrusted(os.fstat(fh.fileno()))
                entry = fh.read() if why is None else b""
            if why is None:
                value = loads(entry)
                # The territory is named on the progress line; the many small entries only in debug.
                log.log(logging.INFO if name == "territory" else logging.DEBUG, "using the cached %s (%s)", name, path)
                return value
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            why = f"damaged ({exc})"
        except Exception as exc:  # a body that hashes right but does not parse: still only data
            why = f"unreadable ({type(exc).__name__})"
    log.warning("ignoring the cache entry %s: %s; rebuilding it", path, why)
    if why.startswith(("damaged", "unreadable")):
        _remove(path)
    return None


def _remove(path: Path) -> None:
    try:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode) and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid()):
            path.unlink()
    except OSError:
        pass


def cached(
    name: str, key_parts: list[bytes], build: Callable[[], T], encode=None, decode=None, keep: int | None = None
) -> T:
    """``build()``, from the cache when an intact entry with the same key exists.

    ``encode``/``decode`` turn the value into and back from plain data (dicts of
    frames, geometries and arrays) when it is not plain data itself; ``keep`` as
    for :func:`store`.
    """
    hit = lookup(name, key_parts)
    if hit is not None:
        try:
            return decode(hit) if decode else hit
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("cache entry %s has an unexpected shape (%s); rebuilding it", name, exc)
    value = build()
    store((name, key_parts), encode(value) if encode else value, keep=keep)
    return value


def store(key: tuple[str, list[bytes]], value: object, keep: int | None = None) -> None:
    """Keep ``value`` under ``key`` (name, key parts), atomically; a cache that cannot be written is no error.

    With ``keep``, only the ``keep`` newest entries of that name stay (entries of an older
    geo or of inputs no longer used are removed, oldest first).
    """
    where = cache_dir()
    if where is None:
        return
    name, key_parts = key
    path = _path(where, name, key_parts)
    tmp = None
    try:
        entry = dumps(value)
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        remove_stale_temporaries(where)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=f".{name}.", suffix=".tmp")  # mode 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(entry)
        os.replace(tmp, path)
        tmp = None
        if keep is not None:
            prune(where, name, keep)
    except (OSError, TypeError, ValueError) as exc:
        log.info("could not store %s in the cache (%s)", name, exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def prune(where: Path, name: str, keep: int) -> int:
    """Remove this user's entries named ``name`` but the ``keep`` newest; how many went."""
    entries = []
    for path in where.glob(f"{name}-*{SUFFIX}"):
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid()):
            entries.append((st.st_mtime_ns, path))
    gone = 0
    for _, path in sorted(entries, reverse=True)[max(keep, 0) :]:
        _remove(path)
        gone += 1
    return gone


def remove_stale_temporaries(where: Path, older_than_s: float = STALE_TMP_S) -> int:
    """Remove this user's temporaries left in the cache by a killed run or a full disk."""
    now, gone = time.time(), 0
    for tmp in where.glob(".*.tmp"):
        try:
            st = os.lstat(tmp)
            mine = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
            if stat.S_ISREG(st.st_mode) and mine and now - st.st_mtime > older_than_s:
                tmp.unlink()
                gone += 1
        except OSError:
            continue
    return gone
