"""The QGIS plugin that registers geo's Processing provider (copied into a QGIS profile by
``geo qgis-install``; needs the geo package in the Python QGIS runs)."""


def classFactory(iface):
    return GeoPlugin()


class GeoPlugin:
    """Adds the ``geo`` provider to the Processing toolbox while the plugin is active."""

    def __init__(self):
        self.provider = None

    def initProcessing(self):
        from qgis.core import QgsApplication

        from geo.qgis import GeoProvider

        self.provider = GeoProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        from qgis.core import QgsApplication

        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
