"""Result sets are whole: staged and switched in at once, locked, checked before any work."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import geo
from geo.cli import main
from geo.io.outdir import ANALYSIS_FILES, MARKER, OUTPUT_NAMES

FILES = ANALYSIS_FILES  # every file an analysis writes
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def geo_cmd(*args) -> list[str]:
    return [sys.executable, "-c", "import sys; from geo.cli import main; sys.exit(main(sys.argv[1:]))", *args]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def whole(out: Path) -> dict:
    """The manifest of a result set, after checking every file against it and that no stray output is there."""
    manifest = json.loads((out / MARKER).read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        assert sha(out / name) == digest, f"{name} is not the file of this set"
    stray = {p.name for p in out.iterdir() if p.name in OUTPUT_NAMES} - set(manifest["files"])
    assert not stray, f"files of another run: {stray}"
    return manifest


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory):
    """Two different hazard layers, so that the sets they give differ in every file."""
    where = tmp_path_factory.mktemp("inputs")
    hz = geo.read_hazards(geo.DEMO_HAZARDS).drop(columns=["row"])
    a, b = where / "a.gpkg", where / "b.gpkg"
    hz.iloc[::7].to_file(a, engine="pyogrio")
    hz.iloc[1::7].to_file(b, engine="pyogrio")
    return a, b


def test_a_run_writes_a_manifest_of_its_set(tmp_path, small_inputs):
    out = tmp_path / "out"
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q", "--xlsx"]) == 0
    manifest = whole(out)
    assert set(FILES) | {"tables.xlsx"} == set(manifest["files"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no lock or staging left beside it


def test_a_new_set_replaces_the_whole_previous_one(tmp_path, small_inputs):
    out = tmp_path / "out"
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q", "--xlsx"]) == 0
    assert main(["analyze", str(small_inputs[1]), "--out", str(out), "-q"]) == 0
    assert not (out / "tables.xlsx").exists()  # the old run's workbook is not mixed into the new set
    assert set(whole(out)["files"]) == set(FILES)


def test_foreign_files_survive_with_force(tmp_path, small_inputs):
    out = tmp_path / "shared"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q"]) == 2  # not geo's: refused
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q", "--force"]) == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    whole(out)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_one_whole_set(tmp_path, small_inputs):
    out = tmp_path / "out"
    a, b = small_inputs
    assert subprocess.run(geo_cmd("analyze", str(a), "--out", str(out), "-q"), check=False).returncode == 0
    start = time.perf_counter()
    assert subprocess.run(geo_cmd("analyze", str(b), "--out", str(tmp_path / "t"), "-q")).returncode == 0
    duration = time.perf_counter() - start
    seen = {}
    trials = 0
    for i, frac in enumerate((0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99, 1.02)):
        src = (a, b)[i % 2]
        proc = subprocess.Popen(
            geo_cmd("analyze", str(src), "--out", str(out), "-q"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(duration * frac)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        trials += 1
        manifest = whole(out)  # one complete set, never a mix
        seen[json.dumps(manifest["files"], sort_keys=True)] = True
    assert trials == 10 and len(seen) >= 1
    # The next run cleans up what the killed ones left (staging directories, lock files).
    assert subprocess.run(geo_cmd("analyze", str(a), "--out", str(out), "-q")).returncode == 0
    whole(out)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_second_run_on_the_same_out_is_refused_clearly(tmp_path, small_inputs):
    out = tmp_path / "out"
    # A cold run with both maps takes several seconds: the second run arrives while it writes.
    first = subprocess.Popen(
        geo_cmd("analyze", str(small_inputs[0]), "--out", str(out), "-q", "--map", "--png"),
        stdout=subprocess.DEVNULL,
        env={**os.environ, "GEO_CACHE": "0"},
    )
    lock = tmp_path / ".out.geo-lock"
    deadline = time.time() + 60
    while not lock.exists() and time.time() < deadline:
        time.sleep(0.02)
    second = subprocess.run(
        geo_cmd("analyze", str(small_inputs[1]), "--out", str(out), "-q"), capture_output=True, text=True
    )
    assert first.wait() == 0
    assert second.returncode == 2
    assert "another geo run" in second.stderr and "Traceback" not in second.stderr
    whole(out)


def test_a_full_disk_leaves_the_previous_set(tmp_path, small_inputs):
    """A file-size limit makes every write past 200 kB fail, as a full disk does."""
    out = tmp_path / "out"
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q"]) == 0
    before = whole(out)
    limit = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000)); "
        "from geo.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {**os.environ, "GEO_CACHE": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", limit, "analyze", str(small_inputs[1]), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    # The message names where: the file or the output directory the user gave, not a placeholder.
    assert str(out) in proc.stderr, proc.stderr
    assert whole(out) == before
    assert not [p.name for p in tmp_path.iterdir() if "staging" in p.name]


def test_out_checks_come_before_any_work(tmp_path, capsys):
    started = time.perf_counter()
    assert main(["analyze", "--out", str(tmp_path / "a\nb"), "-q"]) == 2
    assert "control character" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["analyze", "--out", str(tmp_path / "file"), "-q"]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["analyze", "--out", str(tmp_path / "r"), "-q", "--raster", "--cell", "1"]) == 2
    assert "--cell 1" in capsys.readouterr().err
    assert time.perf_counter() - started < 10  # refused without running the analysis (which takes longer)


def test_symlinks_in_the_output_set_are_refused(tmp_path, small_inputs, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q"]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (out / MARKER).unlink()
    (out / MARKER).symlink_to(victim)
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    (out / MARKER).unlink()
    (out / "summary.json").unlink()
    (out / "summary.json").symlink_to(victim)
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q", "--force"]) == 2
    assert victim.read_text(encoding="utf-8") == "precious"
    linked = tmp_path / "linked"
    linked.symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real").mkdir()
    assert main(["analyze", str(small_inputs[0]), "--out", str(linked), "-q"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    page = tmp_path / "page.html"
    page.symlink_to(victim)
    assert main(["map", "--out", str(page), "-q"]) == 2
    assert victim.read_text(encoding="utf-8") == "precious"


@pytest.mark.skipif(ROOT, reason="root writes into read-only directories; the check cannot fail as root")
def test_read_only_out_is_refused_up_front(tmp_path, small_inputs, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(small_inputs[0]), "--out", str(out), "-q"]) == 0
    out.chmod(0o555)
    try:
        assert main(["analyze", str(small_inputs[1]), "--out", str(out), "-q"]) == 2
        assert "read-only" in capsys.readouterr().err
    finally:
        out.chmod(0o755)


def test_printing_never_fails_on_an_ascii_console(tmp_path, small_inputs):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING"))}
    env.update({"PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "LC_ALL": "C"})
    proc = subprocess.run(
        geo_cmd("analyze", str(small_inputs[0]), "--out", str(tmp_path / "o"), "--frontier-tolerance", "250m"),
        capture_output=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"frontier tolerance" in proc.stdout


def test_runs_where_fcntl_and_renameat2_are_missing(tmp_path, small_inputs):
    """As on Windows: no fcntl (nor msvcrt here), no renameat2. Result sets are still whole, switched with
    two renames, and a run is refused while the process named in the lock file lives."""
    bare = (
        "import sys; sys.modules['fcntl'] = None; sys.modules['msvcrt'] = None\n"
        "import geo.io.outdir as o; o._renameat2_exchange = lambda a, b: False\n"
        "from geo.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "out"

    def run(source):
        return subprocess.run(
            [sys.executable, "-c", bare, "analyze", str(source), "--out", str(out), "-q"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    first = run(small_inputs[0])
    assert first.returncode == 0, first.stderr
    whole(out)
    before = whole(out)["files"]
    second = run(small_inputs[1])  # a second set replaces the first, whole
    assert second.returncode == 0, second.stderr
    assert whole(out)["files"]["summary.json"] != before["summary.json"]
    lock = tmp_path / ".out.geo-lock"
    lock.write_text(str(os.getpid()))  # a live process holds it
    held = run(small_inputs[0])
    assert held.returncode == 2 and f"another geo run (process {os.getpid()})" in held.stderr, held.stderr
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(dead.stdout.strip())  # that process has ended: the lock is free
    assert run(small_inputs[0]).returncode == 0
    assert not lock.exists()
