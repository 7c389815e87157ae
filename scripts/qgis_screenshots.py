"""Screenshots for docs/qgis.md, taken headless: geo's algorithms in the Processing toolbox
(``docs/qgis_toolbox.png``) and a border-zone analysis loaded in a QGIS map (``docs/qgis_result.png``).

Needs QGIS's Python bindings (Debian: ``apt-get install python3-qgis``); run with geo's Python::

    QT_QPA_PLATFORM=offscreen python scripts/qgis_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.extend(["/usr/lib/python3/dist-packages", "/usr/share/qgis/python/plugins"])
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsFillSymbol,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def main() -> int:
    import geo
    from geo.qgis import start_headless

    app, _ = start_headless(gui=True)
    import processing
    from qgis.gui import QgsProcessingToolboxProxyModel, QgsProcessingToolboxTreeView

    view = QgsProcessingToolboxTreeView(None, QgsApplication.processingRegistry())
    view.setFilterString("geo:")
    view.setFilters(QgsProcessingToolboxProxyModel.FilterToolbox)
    view.expandAll()
    view.resize(420, 260)
    view.setWindowTitle("Processing Toolbox")
    view.show()
    app.processEvents()
    view.grab().save(str(ROOT / "docs" / "qgis_toolbox.png"))

    out = Path(tempfile.mkdtemp(prefix="geo-qgis-"))
    res = processing.run(
        "geo:borderzones",
        {
            "INPUT": str(geo.DEMO_HAZARDS),
            "PIECES": str(out / "pieces.gpkg"),
            "ZONES": str(out / "zones.gpkg"),
            "PROVINCES": str(out / "provinces.gpkg"),
        },
    )
    styles = {
        "provinces": {"color": "235,235,228,255", "outline_color": "90,90,90,255", "outline_width": "0.2"},
        "zones": {"color": "240,200,120,150", "outline_style": "no"},
        "pieces": {"color": "170,30,30,255", "outline_style": "no"},
    }
    layers = []
    for name in ("pieces", "zones", "provinces"):
        layer = QgsVectorLayer(res[name.upper()], name, "ogr")
        if name == "zones":
            layer.setSubsetString("outer_km IS NOT NULL")  # the bands, not the land beyond 7 km
        layer.renderer().setSymbol(QgsFillSymbol.createSimple(styles[name]))
        layers.append(layer)
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setBackgroundColor(QColor(200, 215, 225))
    settings.setOutputSize(QSize(1000, 640))
    settings.setExtent(QgsRectangle(102.3, 12.4, 103.9, 14.5))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(ROOT / "docs" / "qgis_result.png"))
    print(f"within 2 km {res['WITHIN_2KM_KM2']:.2f} km2, within 7 km {res['WITHIN_7KM_KM2']:.2f} km2")
    sys.stdout.flush()
    os._exit(0)  # QGIS may crash tearing itself down on Debian's build


if __name__ == "__main__":
    raise SystemExit(main())
