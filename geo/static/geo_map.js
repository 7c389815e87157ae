/* geo's own map controls: metric scale, mouse coordinates (lat/lon and UTM 48N). */
(function () {
  // UTM zone 48N on WGS 84 (central meridian 105 E, k0 0.9996, false easting 500 km):
  // transverse Mercator series (Snyder, Map Projections - A Working Manual, 1987, eqs. 8-9 .. 8-10).
  function utm48n(latDeg, lonDeg) {
    var a = 6378137.0, f = 1 / 298.257223563, k0 = 0.9996;
    var e2 = f * (2 - f), ep2 = e2 / (1 - e2);
    var phi = latDeg * Math.PI / 180, lam = (lonDeg - 105) * Math.PI / 180;
    var s = Math.sin(phi), c = Math.cos(phi), t = Math.tan(phi);
    var N = a / Math.sqrt(1 - e2 * s * s), T = t * t, C = ep2 * c * c, A = lam * c;
    var e4 = e2 * e2, e6 = e4 * e2;
    var M = a * ((1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi
      - (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * Math.sin(2 * phi)
      + (15 * e4 / 256 + 45 * e6 / 1024) * Math.sin(4 * phi)
      - (35 * e6 / 3072) * Math.sin(6 * phi));
    var x = k0 * N * (A + (1 - T + C) * Math.pow(A, 3) / 6
      + (5 - 18 * T + T * T + 72 * C - 58 * ep2) * Math.pow(A, 5) / 120) + 500000;
    var y = k0 * (M + N * t * (A * A / 2 + (5 - T + 9 * C + 4 * C * C) * Math.pow(A, 4) / 24
      + (61 - 58 * T + T * T + 600 * C - 330 * ep2) * Math.pow(A, 6) / 720));
    return [x, y];
  }
  window.geoUtm48n = utm48n;

  window.geoAddControls = function (map) {
    L.control.scale({ metric: true, imperial: false, maxWidth: 160, position: "bottomleft" }).addTo(map);
    // Panels start collapsed where they would cover the map (small screens); a click opens them.
    if (window.innerWidth < 1200 || window.innerHeight < 760) {
      document.querySelectorAll("details.geo-collapsible").forEach(function (d) { d.open = false; });
    }
    var Coords = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "geo-panel geo-coords");
        div.textContent = "move the pointer over the map";
        map.on("mousemove", function (e) {
          var u = utm48n(e.latlng.lat, e.latlng.lng);
          div.textContent = e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5)
            + "  |  UTM 48N " + u[0].toFixed(0) + " E " + u[1].toFixed(0) + " N";
        });
        return div;
      }
    });
    new Coords().addTo(map);
    // Tile errors fire on the tile layer, not the map: watch every tile layer, now and later.
    function watchTiles(layer) {
      if (layer instanceof L.TileLayer) {
        layer.on("tileerror", function () {
          var note = document.getElementById("geo-tile-note");
          if (note) { note.textContent = "Basemap tiles could not be loaded (offline?); the layers below are complete."; }
        });
      }
    }
    map.eachLayer(watchTiles);
    map.on("layeradd", function (e) { watchTiles(e.layer); });
  };
})();

/* Data layers: style, tooltip and popup from feature properties, all text set with textContent
   (attribute values are never parsed as HTML). */
(function () {
  function table(rows) {
    var t = document.createElement("table");
    rows.forEach(function (r) {
      var tr = t.insertRow(), th = document.createElement("th"), td = tr.insertCell();
      th.textContent = r[0]; td.textContent = r[1] == null ? "" : String(r[1]);
      tr.insertBefore(th, td);
    });
    return t;
  }
  window.geoLayer = function (data, o) {
    var layer = L.geoJSON(data, {
      style: function (f) {
        var p = f.properties, s = { color: o.color || p._fill, weight: o.weight, fillColor: p._fill,
                                    fillOpacity: o.fillOpacity, opacity: 1 };
        if (o.dash) { s.dashArray = o.dash; }
        return s;
      },
      onEachFeature: function (f, l) {
        if (o.tooltip) {
          l.bindTooltip(function () {
            var d = document.createElement("div");
            d.className = "foliumtooltip geo-tooltip";
            d.appendChild(table(o.tooltip.filter(function (kv) { return f.properties[kv[1]] !== undefined &&
              f.properties[kv[1]] !== ""; }).map(function (kv) { return [kv[0], f.properties[kv[1]]]; })));
            return d;
          }, { sticky: true });
        }
        if (o.popup && f.properties._attrs) {
          l.bindPopup(function () {
            var d = document.createElement("div");
            d.className = "geo-popup";
            var shown = (o.tooltip || []).filter(function (kv) { return f.properties[kv[1]]; })
              .map(function (kv) { return [kv[0], f.properties[kv[1]]]; });
            var rest = Object.keys(f.properties._attrs).map(function (k) { return [k, f.properties._attrs[k]]; });
            d.appendChild(table(shown.concat(rest)));
            return d;
          }, { maxWidth: 420 });
        }
        if (o.highlight) {
          l.on("mouseover", function () { l.setStyle({ weight: 2.5, color: "#000" }); });
          l.on("mouseout", function () { layer.resetStyle(l); });
        }
      }
    });
    return layer;
  };
  window.geoSearch = function (map, layer, prop, placeholder) {
    var control = new L.Control.Search({
      layer: layer, propertyName: prop, marker: false, collapsed: true, initial: false,
      textPlaceholder: placeholder, textErr: "Not found", position: "topleft",
      // Suggestions are built as text nodes: the plugin's default tip parses the value as HTML.
      buildTip: function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        return li;
      },
      moveToLocation: function (latlng, title, m) { m.fitBounds(latlng.layer.getBounds(), { maxZoom: 15 }); }
    }).on("search:locationfound", function (e) { if (e.layer.openTooltip) { e.layer.openTooltip(); } });
    control.addTo(map);
    // A visible label on the button: two magnifier icons alone do not say what they search.
    var button = control.getContainer().querySelector(".search-button");
    if (button) {
      button.setAttribute("data-label", placeholder);
      button.setAttribute("aria-label", "Search by " + placeholder.toLowerCase());
      button.title = "Search by " + placeholder.toLowerCase();
    }
    return control;
  };
})();
