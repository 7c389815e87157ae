"""``geo qgis-install``: put geo's QGIS plugin (its Processing provider) into a QGIS profile."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from geo.errors import GeoInputError

#: The plugin's folder name inside a profile's ``python/plugins``.
PLUGIN_NAME = "geo_border_zones"


def default_profile() -> Path:
    """QGIS 3's default profile folder on this system."""
    home = Path.home()
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA", home / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
    return base / "QGIS" / "QGIS3" / "profiles" / "default"


def plugin_source() -> Path:
    """The plugin folder shipped inside geo (``geo/qgis/plugin``), found without importing QGIS."""
    return Path(__file__).resolve().parents[1] / "qgis" / "plugin"


def install_plugin(profile: Path, *, link: bool = False) -> Path:
    """Copy (or link) the plugin into ``profile/python/plugins``; returns the plugin folder written."""
    source = plugin_source()
    if not (source / "metadata.txt").is_file():
        raise GeoInputError("geo's QGIS plugin folder is missing from this installation; reinstall geo", str(source))
    target = profile / "python" / "plugins" / PLUGIN_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if link:
        target.symlink_to(source, target_is_directory=True)
    else:
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def cmd_qgis_install(args: argparse.Namespace) -> int:
    profile = Path(args.profile_dir) if args.profile_dir else default_profile()
    target = install_plugin(profile, link=args.link)
    print(f"installed the QGIS plugin in {target}")
    print(
        "next: in QGIS, Plugins > Manage and Install Plugins > Installed: tick 'geo border zones'; its algorithms "
        "are then in the Processing toolbox under 'geo border zones'. QGIS's own Python must be able to import geo "
        f"(this geo runs in {sys.executable}); see docs/qgis.md."
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "qgis-install",
        help="put geo's Processing provider (a QGIS plugin) into a QGIS profile",
        description="Copy geo's QGIS plugin into a QGIS 3 profile (default: the default profile of this user).",
    )
    p.add_argument("--profile-dir", help=f"the QGIS profile folder (default: {default_profile()})")
    p.add_argument("--link", action="store_true", help="link the plugin folder instead of copying it (a dev install)")
    p.set_defaults(func=cmd_qgis_install)
