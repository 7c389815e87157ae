"""Build hook: the wheel carries the repository's top-level ``data/`` as ``geo/data``.

Everything else about the package is declared in ``pyproject.toml``; geo finds the
data with :func:`geo.io.data.data_dir` (``importlib.resources``), in a wheel or a checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: What a wheel ships of data/: the layers and tables geo reads, with their sources and licences.
DATA_PATTERNS = ("*.gpkg", "*.csv", "*.toml", "*.md", "LICENSE*", "COPYING*")


class BuildWithData(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads data/ in the checkout itself
            return
        source = HERE / "data"
        target = Path(self.build_lib) / "geo" / "data"
        for path in source.rglob("*"):
            if path.is_file() and any(path.match(p) for p in DATA_PATTERNS):
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


setup(cmdclass={"build_py": BuildWithData})
