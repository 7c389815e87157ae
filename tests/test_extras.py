"""geo's optional stacks are extras: without them the command says which extra to install."""

from __future__ import annotations

import subprocess
import sys


def test_postgis_without_its_extra_names_the_extra():
    code = (
        "import sys\n"
        "for name in ('sqlalchemy', 'psycopg', 'geoalchemy2'):\n"
        "    sys.modules[name] = None\n"
        "import importlib.util\n"
        "real = importlib.util.find_spec\n"
        "gone = ('sqlalchemy', 'psycopg', 'geoalchemy2')\n"
        "importlib.util.find_spec = lambda n, *a: None if n in gone else real(n, *a)\n"
        "from geo.cli import main\n"
        "sys.exit(main(['analyze', 'postgresql://ops@127.0.0.1:9/db', '--table', 'hazards', '-q']))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "pip install 'geo-mine-action[postgis]'" in run.stderr and "Traceback" not in run.stderr
