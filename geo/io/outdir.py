"""Output directories written as a whole: a locked, checked, staged result set switched in at once.

A run writes every file of its result set into a hidden sibling staging
directory (``.NAME.staging-XXXX`` beside ``NAME``) and, when all are
written, exchanges it with the output directory in one atomic
``renameat2(RENAME_EXCHANGE)`` (Linux); elsewhere two renames are used and a
run killed between them is repaired by the next.  So ``--out`` holds either
the previous complete set or the new one, never a mix.  A sibling lock file
(``.NAME.geo-lock``) keeps two runs from writing the same directory.

The manifest ``.geo-output`` inside the directory lists each file of the set
with its sha256, so any reader can check that the set is whole.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from geo._threads import workers
from geo.errors import GeoEnvironmentError, GeoInputError
from geo.io.data import sha256_path

MARKER = ".geo-output"
#: Every file name geo writes into an output directory (the set it owns).
#: The files every analysis writes, in the order :func:`geo.render.export.write_outputs` lists them.
ANALYSIS_FILES = (
    "summary.json",
    "by_province.csv",
    "by_hazard.csv",
    "zones.gpkg",
    "validation.json",
    "hazard_pieces.parquet",
    "by_district.csv",
)
OUTPUT_NAMES = (
    *ANALYSIS_FILES,
    "tables.xlsx",
    "map.html",
    "map.png",
    "map.pdf",
    "density.tif",
    "zones.kml",
    "zones.gdb",
)
#: The files of ``geo release`` and ``geo scenario``: each run replaces its own family of files
#: and keeps the others, so an analysis, a release and a scenario can share one directory.
RELEASE_NAMES = ("release_by_band.csv", "release_summary.json", "release_pieces.gpkg", "README_release.txt")
SCENARIO_NAMES = (
    "scenario_completion.csv",
    "scenario_burndown.csv",
    "scenario_summary.json",
    "burndown.png",
    "README_scenario.txt",
)
ALL_NAMES = (*OUTPUT_NAMES, *RELEASE_NAMES, *SCENARIO_NAMES)
#: Free space, bytes, asked for beyond the estimate (GeoPackage journals, temporaries).
SPACE_MARGIN = 20_000_000
#: Bytes of output per byte of input, measured on the demo (all outputs: about 3x); with a margin.
OUTPUT_FACTOR = 5
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG, errno.EIO}


def environment_error(exc: OSError, path: Path | str) -> GeoEnvironmentError | None:
    """A clear error for a failure of the machine (disk full, read-only...), or None for other errors."""
    if exc.errno not in ENVIRONMENT_ERRNOS:
        return None
    why = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EFBIG: "the file grew past the size allowed for this process",
        errno.EIO: "input/output error on the device",
    }[exc.errno]
    # A file of the staging directory is named as the file it was to become: the user knows that one.
    shown = re.sub(r"(^|[/\\])\.([^/\\]+)\.staging-[^/\\]+", r"\1\2", str(path))
    return GeoEnvironmentError(f"cannot write: {why}", shown)


def library_write_error(path: Path, written: Path) -> GeoEnvironmentError | None:
    """After a writer library (GDAL) failed without an OS error: a clear error if the machine is the
    cause (no space left, or the file at the size this process may write), else None.

    ``written`` is the partial file (or folder) the library was writing.
    """
    try:
        import resource
    except ImportError:  # Windows: no per-process file-size limit
        resource = None  # type: ignore[assignment]
    try:
        size = (
            sum(p.stat().st_size for p in written.rglob("*") if p.is_file())
            if written.is_dir()
            else written.stat().st_size
        )
    except OSError:
        size = 0
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE) if resource is not None else (-1, -1)
    if resource is not None and soft != resource.RLIM_INFINITY and size + (1 << 20) >= soft:
        return environment_error(OSError(errno.EFBIG, "file too large"), path)
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    if free < (4 << 20):
        return environment_error(OSError(errno.ENOSPC, "no space"), path)
    return None


def check_path_text(path: Path) -> None:
    """Refuse output paths with line breaks or other control characters (they break logs and scripts)."""
    bad = [c for c in str(path) if ord(c) < 32 or ord(c) == 127]
    if bad:
        raise GeoInputError(
            f"the output path contains a control character ({bad[0]!r}); choose a name without one", repr(str(path))
        )


def check_out_file(path: Path, inputs: list[Path] = ()) -> None:  # type: ignore[assignment]
    """Check, before any work, that a single output file may be written: a plain name, not a link,
    not an input, in a directory that can be written."""
    path = Path(path)
    check_path_text(path)
    if path.is_symlink():
        raise GeoInputError(f"is a symbolic link (to {os.readlink(path)}); geo does not write through links", str(path))
    if path.is_dir():
        raise GeoInputError("is a directory; give a file name", str(path))
    if any(path.resolve() == Path(i).resolve() for i in inputs):
        raise GeoInputError(f"output would overwrite the input {path.name}", str(path))
    parent = path.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise GeoInputError("the parent of the output is not a directory", str(parent))
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise GeoEnvironmentError("cannot write: the directory is read-only for this user", str(parent))


def _try_lock(fd: int) -> bool:
    """An exclusive lock on the open lock file ``fd`` without waiting; False if another run holds it.

    ``fcntl.flock`` where there is one (Linux, macOS), ``msvcrt.locking`` on Windows; elsewhere the
    process id written in the file: the lock is held while that process lives.
    """
    try:
        import fcntl
    except ImportError:
        fcntl = None  # type: ignore[assignment]
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    try:
        import msvcrt
    except ImportError:
        msvcrt = None  # type: ignore[assignment]
    if msvcrt is not None:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    os.lseek(fd, 0, os.SEEK_SET)
    holder = os.read(fd, 64).decode(errors="replace").strip()
    if not holder.isdigit() or int(holder) == os.getpid():
        return True
    try:
        os.kill(int(holder), 0)  # signal 0: is that process alive?
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2 RENAME_EXCHANGE); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError, TypeError):  # no such call (macOS), or no C library by that name (Windows)
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class OutputSet:
    """A result set written into ``out_dir`` as a whole (use as a context manager).

    On entry the directory is checked (not a file, not a link, not the working
    directory, writable, enough free space, geo's own or ``force``), locked,
    and a staging directory is made; write files into :attr:`path`.
    :meth:`commit` switches the staged set in; leaving the block without a
    commit (an error, an interrupt) removes the staging directory and leaves
    the previous set untouched.

    Parameters
    ----------
    out_dir : Path
        The output directory.
    inputs : list of Path
        Input files, which are never overwritten.
    force : bool
        Write into a non-empty directory geo did not create.
    input_bytes : int
        Size of the inputs, for the free-space check.
    owns : tuple of str
        The file names this run replaces (default: the analysis's); geo's other files stay.
    """

    def __init__(
        self,
        out_dir: Path,
        inputs: list[Path] = (),  # type: ignore[assignment]
        force: bool = False,
        input_bytes: int = 0,
        owns: tuple[str, ...] = OUTPUT_NAMES,
    ):
        self.owns = tuple(owns)
        self.out = Path(out_dir)
        self.inputs = [Path(p) for p in inputs]
        self.force = force
        self.input_bytes = input_bytes
        self.path: Path = self.out
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self._staging: Path | None = None

    # -- checks, lock and staging
    def __enter__(self) -> OutputSet:
        out = self.out
        check_path_text(out)
        self._check_target()
        parent = out.absolute().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            env = environment_error(exc, parent)
            raise env or GeoInputError(f"cannot create the directory: {exc}", str(parent)) from exc
        self._lock(parent)
        try:
            self._recover(parent)
            self._check_space(parent)
            self._staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=parent))
            probe = self._staging / ".probe"
            probe.write_bytes(b"geo")
            probe.unlink()
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            env = environment_error(exc, parent) if isinstance(exc, OSError) else None
            if env is not None:
                raise env from exc
            raise
        self.path = self._staging
        return self

    def _check_target(self) -> None:
        out = self.out
        if out.is_symlink():
            raise GeoInputError(
                f"the output directory is a symbolic link (to {os.readlink(out)}); give the real directory", str(out)
            )
        if out.exists() and not out.is_dir():
            raise GeoInputError("output path exists and is not a directory", str(out))
        here = Path.cwd().resolve()
        if out.exists() and (out.resolve() == here or out.resolve() in here.parents):
            raise GeoInputError(
                "the output directory is the working directory or holds it; give a directory of its own "
                "(e.g. --out geo-output)",
                str(out),
            )
        for src in self.inputs:
            for name in ALL_NAMES:
                if (out / name).resolve() == src.resolve():
                    raise GeoInputError(f"output would overwrite the input {src.name}", str(out))
        if not out.is_dir():
            return
        if not os.access(out, os.W_OK | os.X_OK):
            raise GeoEnvironmentError("cannot write: the output directory is read-only for this user", str(out))
        entries = list(out.iterdir())
        for p in entries:
            if p.name in (*ALL_NAMES, MARKER) and p.is_symlink():
                raise GeoInputError(f"{p.name} is a symbolic link; geo does not write through links", str(out))
        ours = (out / MARKER).is_file()
        if entries and not ours and not self.force:
            raise GeoInputError(
                "directory is not empty and was not written by geo; use --force to write into it", str(out)
            )
        # geo's own File Geodatabase (a folder) belongs to the set; any other folder is the user's.
        foreign_dirs = [p.name for p in entries if p.is_dir() and not p.is_symlink() and p.name not in ALL_NAMES]
        if foreign_dirs:
            raise GeoInputError(
                f"the output directory holds subdirectories ({', '.join(sorted(foreign_dirs)[:3])}); geo replaces "
                "its result set as a whole and does not move them: choose a directory of its own",
                str(out),
            )

    def _lock(self, parent: Path) -> None:
        lock = parent / f".{self.out.name}.geo-lock"
        while True:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except OSError as exc:
                env = environment_error(exc, lock)
                raise env or GeoInputError(f"cannot create the lock file: {exc}", str(lock)) from exc
            if not _try_lock(fd):
                os.lseek(fd, 0, os.SEEK_SET)
                holder = os.read(fd, 64).decode(errors="replace").strip()
                os.close(fd)
                raise GeoEnvironmentError(
                    f"another geo run{f' (process {holder})' if holder else ''} is writing to this directory; "
                    "wait for it to finish or choose another --out",
                    str(self.out),
                ) from None
            # The file is removed when a run ends: make sure the lock taken is on the file still there.
            try:
                same = os.stat(lock, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd, self._lock_path = fd, lock

    def _recover(self, parent: Path) -> None:
        """Finish what a killed run left: restore a set moved aside, remove staging directories."""
        name = self.out.name
        aside = sorted(parent.glob(f".{name}.old-*"))
        if aside and not self.out.exists():
            os.rename(aside.pop(), self.out)
        for left in [*aside, *parent.glob(f".{name}.staging-*")]:
            if left.is_dir() and not left.is_symlink():
                shutil.rmtree(left, ignore_errors=True)

    def _check_space(self, parent: Path) -> None:
        try:
            st = os.statvfs(parent)
        except OSError:
            return
        free = st.f_bavail * st.f_frsize
        need = self.input_bytes * OUTPUT_FACTOR + SPACE_MARGIN
        if free < need:
            raise GeoEnvironmentError(
                f"only {free / 1e6:,.1f} MB free on the disk; the outputs need about {need / 1e6:,.0f} MB", str(parent)
            )

    # -- the switch
    def commit(self) -> list[Path]:
        """Write the manifest and switch the staged set in; returns the files of the set (final paths)."""
        staging = self._staging
        if staging is None:
            raise RuntimeError("commit() outside the with block")
        files = sorted(p.name for p in staging.iterdir() if not p.name.startswith(".") and not p.is_symlink())
        # Hashed side by side: hashlib works without Python's lock (the pieces' files are hundreds of MB).
        with ThreadPoolExecutor(max(min(len(files), workers()), 1)) as pool:
            digests = list(pool.map(lambda n: sha256_path(staging / n), files))
        manifest = {"written_by": "geo", "files": dict(zip(files, digests))}
        (staging / MARKER).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        out = self.out
        if out.is_dir():
            self._carry_foreign(out, staging, set(files))
            os.chmod(staging, stat.S_IMODE(os.stat(out).st_mode))
            for p in (staging, *staging.rglob("*")):
                _fsync(p)
            if not _renameat2_exchange(staging, out):
                aside = staging.parent / f".{out.name}.old-{os.getpid()}"
                os.rename(out, aside)  # a kill from here on is repaired by the next run (_recover)
                os.rename(staging, out)
                staging = aside
        else:
            for p in (staging, *staging.rglob("*")):
                _fsync(p)
            os.rename(staging, out)
            staging = None
        _fsync(out.absolute().parent)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        self._staging = None
        self.path = out
        return [out / n for n in files]

    def _carry_foreign(self, out: Path, staging: Path, new: set[str]) -> None:
        """Files in the directory this run does not replace (other geo runs' files, a user's files kept with
        --force) go into the new set as hard links."""
        temporaries = tuple(f".{Path(n).stem}." for n in ALL_NAMES)  # of single-file writes killed midway
        for p in out.iterdir():
            if p.name in self.owns or p.name == MARKER or p.name in new or p.name.startswith(temporaries):
                continue
            target = staging / p.name
            if p.is_dir() and not p.is_symlink():  # geo's File Geodatabase from another verb's run
                shutil.copytree(p, target, copy_function=_link_or_copy)
                continue
            try:
                os.link(p, target, follow_symlinks=False)
            except OSError:
                if p.is_symlink():
                    os.symlink(os.readlink(p), target)
                else:
                    shutil.copy2(p, target)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._lock_fd is not None:
            if self._lock_path is not None:  # removed while still held: a waiting run re-checks the inode
                self._lock_path.unlink(missing_ok=True)
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None
        self.path = self.out


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
