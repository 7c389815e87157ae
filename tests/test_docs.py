"""The documentation: a short README with the two set-up commands, and the docs/ site building strictly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_short_and_its_quick_start_is_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert blocks[0].strip() == "pip install -e . && geo analyze"
    assert blocks[1].strip() == 'pip install -e ".[test]" && python -m pytest'
    # .ci/run runs that same test command.
    assert blocks[1].strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_page_the_readme_links_exists_and_every_docs_page_is_in_the_site():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)\)", text):
        assert (ROOT / link).is_file(), link
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = {next(iter(entry.values())) for entry in config["nav"]}
    assert in_nav == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_the_docs_site_builds_strictly(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    page = (tmp_path / "site" / "architecture" / "index.html").read_text(encoding="utf-8")
    assert "geo/engine" in page and "import-linter" in page
