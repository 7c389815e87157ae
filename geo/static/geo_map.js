/* geo's own map controls: metric scale, pointer coordinates (lat/lon and UTM, in the zone of the point). */
(function () {
  // A northern UTM zone on WGS 84 (central meridian 6 * zone - 183 E, k0 0.9996, false easting 500 km):
  // transverse Mercator series (Snyder, Map Projections - A Working Manual, 1987, eqs. 8-9 .. 8-10).
  function utmNorth(latDeg, lonDeg, zone) {
    var a = 6378137.0, f = 1 / 298.257223563, k0 = 0.9996;
    var e2 = f * (2 - f), ep2 = e2 / (1 - e2);
    var phi = latDeg * Math.PI / 180, lam = (lonDeg - (6 * zone - 183)) * Math.PI / 180;
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
  function utm48n(latDeg, lonDeg) { return utmNorth(latDeg, lonDeg, 48); }
  window.geoUtm48n = utm48n;
  // The zone a longitude lies in (Cambodia: 48, its far west 47).
  window.geoUtmZone = function (lonDeg) { return Math.floor((lonDeg + 180) / 6) + 1; };
  window.geoUtm = utmNorth;

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
        var touch = ("ontouchstart" in window) || navigator.maxTouchPoints > 0;
        div.textContent = touch ? "tap the map for its coordinates" : "move the pointer over the map";
        function show(e) {
          var zone = window.geoUtmZone(e.latlng.lng), u = utmNorth(e.latlng.lat, e.latlng.lng, zone);
          div.textContent = e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5)
            + "  |  UTM " + zone + "N " + u[0].toFixed(0) + " E " + u[1].toFixed(0) + " N";
        }
        map.on("mousemove", show);
        map.on("click", show);
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
  var pointCanvas = null;
  window.geoLayer = function (data, o) {
    var layer = L.geoJSON(data, {
      interactive: o.interactive !== false,
      // Points (a hazard each, over the density grid) as circles on one canvas: thousands stay fast.
      pointToLayer: function (f, latlng) {
        pointCanvas = pointCanvas || L.canvas({ padding: 0.2 });
        return L.circleMarker(latlng, { radius: o.radius || 5, renderer: pointCanvas });
      },
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
          }, {
            maxWidth: 420,
            // Opened clear of the controls down the left and the headline at the top right.
            autoPanPaddingTopLeft: L.point(70, 60), autoPanPaddingBottomRight: L.point(20, 40)
          });
          // On touch a tap would show the tooltip and the popup at once: the popup alone.
          l.on("popupopen", function () { l.closeTooltip(); });
        }
        if (o.highlight) {
          l.on("mouseover", function () { l.setStyle({ weight: 2.5, color: "#000" }); });
          l.on("mouseout", function () { layer.resetStyle(l); });
        }
      }
    });
    return layer;
  };
  /* Place names: text set with textContent (names are data); province names from zoom 7, district
     names from zoom 9, each drawn only where it does not overlap a name drawn before it. */
  window.geoLabels = function (map, labels) {
    var group = L.layerGroup().addTo(map);
    labels.forEach(function (p) {
      var icon = L.divIcon({ className: "geo-label geo-label-" + p.kind, html: "", iconSize: null });
      var m = L.marker([p.lat, p.lon], { icon: icon, interactive: false, keyboard: false }).addTo(group);
      var el = m.getElement();
      if (el) {
        var span = document.createElement("span");
        span.textContent = p.text;
        el.appendChild(span);
      }
    });
    /* Names that would overlap are not drawn: countries and seas first, then provinces, then districts;
       a name hidden at one zoom comes back at the next where it fits. */
    var rank = { country: 0, sea: 1, province: 2, district: 3 };
    function kindOf(el) {
      var m = /geo-label-(\w+)/.exec(el.className);
      return m ? m[1] : "district";
    }
    function declutter() {
      var els = [];
      group.eachLayer(function (m) { var el = m.getElement(); if (el) { els.push(el); } });
      els.sort(function (a, b) { return rank[kindOf(a)] - rank[kindOf(b)]; });
      var kept = [];
      els.forEach(function (el) {
        el.style.visibility = "";
        var span = el.firstChild;
        if (!span || getComputedStyle(el).display === "none") { return; }
        var r = span.getBoundingClientRect();
        if (!r.width) { return; }
        var clash = kept.some(function (k) {
          return r.left < k.right && r.right > k.left && r.top < k.bottom && r.bottom > k.top;
        });
        if (clash) { el.style.visibility = "hidden"; } else { kept.push(r); }
      });
    }
    function byZoom() {
      map.getContainer().classList.toggle("geo-near", map.getZoom() >= 7);
      map.getContainer().classList.toggle("geo-district", map.getZoom() >= 9);
      declutter();
    }
    map.on("zoomend", byZoom);
    byZoom();
    window.geoDeclutter = declutter;
    window.geoLabelLayer = group;
  };
  /* A layer drawn only from a zoom on (the hazards' points over the density grid); a search that finds
     one of its features shows it whatever the zoom (see geoSearch). */
  window.geoShowFrom = function (map, layer, zoom) {
    function update() {
      if (map.getZoom() >= zoom) { if (!map.hasLayer(layer)) { layer.addTo(map); } }
      else if (map.hasLayer(layer) && !layer._geoFound) { map.removeLayer(layer); }
    }
    map.on("zoomend", function () { layer._geoFound = false; update(); });
    // The search control adds its layer to the map as it opens: below the zoom, taken off again.
    map.on("layeradd", function (e) {
      if (e.layer === layer) { setTimeout(function () { if (!layer._geoFound) { update(); } }, 0); }
    });
    update();
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
      moveToLocation: function (latlng, title, m) {
        if (latlng.layer.getBounds) { m.fitBounds(latlng.layer.getBounds(), { maxZoom: 15 }); }
        else { m.setView(latlng, 15); }  // a point: street level
      }
    }).on("search:locationfound", function (e) {
      if (!map.hasLayer(layer)) { layer._geoFound = true; layer.addTo(map); }
      if (e.layer.openTooltip) { e.layer.openTooltip(); }
    });
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

/* The chart panel: contaminated km2 per province by band, one province's figures on click, and the
   what-if curve with a slider.  Every figure is read from the analysis' JSON (never recomputed here);
   every label is set with textContent. */
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text != null) { e.textContent = String(text); }
    return e;
  }
  function html(name, cls, text) {
    var e = document.createElement(name);
    if (cls) { e.className = cls; }
    if (text != null) { e.textContent = String(text); }
    return e;
  }
  function fmt(v) { return Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function pct(v) { return (100 * v).toFixed(1) + " %"; }

  function drawBars(box, data, selected, pick) {
    box.textContent = "";
    var W = 300, rowH = 18, labelW = 116, valueW = 52, rows = data.provinces;
    if (!rows.length) { box.appendChild(html("p", "geo-chart-note", "No contamination in the analysed area.")); return; }
    var max = Math.max.apply(null, rows.map(function (p) { return p.total_km2; }));
    var svg = el("svg", { width: W, height: rows.length * rowH + 4, viewBox: "0 0 " + W + " " + (rows.length * rowH + 4),
                          role: "img", "aria-label": "Contaminated km² per province, coloured by band" });
    rows.forEach(function (p, i) {
      var y = i * rowH + 2, x = labelW;
      var g = el("g", { "class": "geo-bar" + (p.code === selected ? " sel" : ""), "data-code": p.code });
      g.appendChild(el("rect", { x: 0, y: y, width: W, height: rowH, "class": "geo-bar-bg" }));
      g.appendChild(el("text", { x: labelW - 4, y: y + 13, "text-anchor": "end" }, p.name));
      var parts = p.km2.map(function (v, k) { return [v, data.bands[k].color, data.bands[k].label]; });
      if (p.outside_km2 > 0) { parts.push([p.outside_km2, "#000000", "outside Cambodia"]); }
      parts.forEach(function (s) {
        var w = max > 0 ? s[0] / max * (W - labelW - valueW) : 0;
        if (w > 0) {
          var r = el("rect", { x: x, y: y + 3, width: w, height: rowH - 6, fill: s[1] });
          r.appendChild(el("title", {}, p.name + ", " + s[2] + ": " + fmt(s[0]) + " km²"));
          g.appendChild(r);
        }
        x += w;
      });
      g.appendChild(el("text", { x: x + 4, y: y + 13 }, fmt(p.total_km2)));
      g.addEventListener("click", function () { pick(p.code); });
      svg.appendChild(g);
    });
    box.appendChild(svg);
  }

  function drawDetail(box, data, code) {
    box.textContent = "";
    var p = data.provinces.filter(function (q) { return q.code === code; })[0];
    if (!code) { box.appendChild(html("p", "geo-chart-note", "Click a province on the map or a bar for its figures.")); return; }
    if (!p) { box.appendChild(html("p", "geo-chart-note", "No contamination recorded in this province.")); return; }
    box.appendChild(html("b", null, p.name + ": " + fmt(p.total_km2) + " km² contaminated"));
    var t = html("table", "geo-chart-table");
    var rows = p.km2.map(function (v, k) { return [data.bands[k].color, data.bands[k].label, v]; });
    if (p.outside_km2 > 0) { rows.push(["#000000", "outside Cambodia", p.outside_km2]); }
    rows.forEach(function (r) {
      var tr = t.insertRow(), a = tr.insertCell(), b = tr.insertCell(), c = tr.insertCell(), d = tr.insertCell();
      var sw = html("span", "sw"); sw.style.background = r[0]; a.appendChild(sw);
      b.textContent = r[1]; c.textContent = fmt(r[2]) + " km²";
      d.textContent = p.total_km2 > 0 ? pct(r[2] / p.total_km2) : "";
    });
    box.appendChild(t);
  }

  function drawCurve(box, readout, slider, data) {
    var c = data.curve;
    if (!c || !c.d_km.length) { box.parentNode.style.display = "none"; return; }
    var W = 300, H = 130, L = 44, R = 8, T = 8, B = 26;
    var dMax = c.d_km[c.d_km.length - 1] || 1, vMax = Math.max.apply(null, c.km2.concat([1e-9]));
    function sx(d) { return L + d / dMax * (W - L - R); }
    function sy(v) { return T + (1 - v / vMax) * (H - T - B); }
    var svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img",
                          "aria-label": "Contaminated km² within d km of the frontier" });
    svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, "class": "geo-axis" }));
    svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: H - B, "class": "geo-axis" }));
    [0, vMax / 2, vMax].forEach(function (v) {
      svg.appendChild(el("text", { x: L - 4, y: sy(v) + 4, "text-anchor": "end", "class": "geo-tick" }, Math.round(v)));
    });
    for (var d = 0; d <= dMax + 1e-9; d += dMax > 10 ? 5 : 1) {
      svg.appendChild(el("text", { x: sx(d), y: H - B + 13, "text-anchor": "middle", "class": "geo-tick" }, d));
    }
    svg.appendChild(el("text", { x: (L + W - R) / 2, y: H - 2, "text-anchor": "middle", "class": "geo-tick" },
                       "km from the frontier"));
    (data.marks_km || []).forEach(function (m) {
      if (m <= dMax) { svg.appendChild(el("line", { x1: sx(m), y1: T, x2: sx(m), y2: H - B, "class": "geo-mark" })); }
    });
    svg.appendChild(el("polyline", { points: c.d_km.map(function (d, i) { return sx(d) + "," + sy(c.km2[i]); }).join(" "),
                                     "class": "geo-curve" }));
    var cursor = el("line", { y1: T, y2: H - B, "class": "geo-cursor" }), dot = el("circle", { r: 4, "class": "geo-dot" });
    svg.appendChild(cursor); svg.appendChild(dot);
    box.textContent = ""; box.appendChild(svg);
    slider.min = 0; slider.max = c.d_km.length - 1; slider.step = 1;
    var seven = c.d_km.indexOf(7);
    slider.value = seven >= 0 ? seven : c.d_km.length - 1;
    function show() {
      var i = Number(slider.value), d = c.d_km[i], v = c.km2[i];
      cursor.setAttribute("x1", sx(d)); cursor.setAttribute("x2", sx(d));
      dot.setAttribute("cx", sx(d)); dot.setAttribute("cy", sy(v));
      readout.textContent = "Within " + d + " km of the frontier: " + fmt(v) + " km²"
        + (data.inside_km2 > 0 ? " (" + pct(v / data.inside_km2) + " of the contaminated land in Cambodia)" : "");
      slider.setAttribute("aria-valuetext", readout.textContent);
    }
    slider.addEventListener("input", show);
    show();
  }

  // The right-hand column (charts, legend) starts below the title panel, so the two never overlap.
  function placeSide() {
    var side = document.getElementById("geo-side"), title = document.getElementById("geo-title");
    if (!side || !title) { return; }
    side.style.top = window.innerWidth <= 600 ? "" : (title.getBoundingClientRect().bottom + 8) + "px";
  }

  window.geoCharts = function (map) {
    var src = document.getElementById("geo-chart-data"), panel = document.getElementById("geo-chart");
    placeSide();
    window.addEventListener("resize", placeSide);
    document.querySelectorAll("#geo-title details").forEach(function (d) { d.addEventListener("toggle", placeSide); });
    if (!src || !panel) { return; }
    var data = JSON.parse(src.textContent), selected = null;
    var bars = document.getElementById("geo-chart-bars"), detail = document.getElementById("geo-chart-detail");
    var label = document.getElementById("geo-chart-label");
    function pick(code) {
      selected = code;
      drawBars(bars, data, selected, pick);
      drawDetail(detail, data, selected);
      var p = data.provinces.filter(function (q) { return q.code === code; })[0];
      label.textContent = p ? ": " + p.name : "";
    }
    pick(null);
    drawCurve(document.getElementById("geo-curve"), document.getElementById("geo-curve-readout"),
              document.getElementById("geo-curve-slider"), data);
    var provinces = (window.geoLayers || {})[data.province_layer];
    if (provinces) {
      provinces.on("click", function (e) {
        pick(e.layer.feature.properties.code);
        // Opened by a click only where it leaves the map in view; on small screens the heading says it is ready.
        if (window.innerWidth >= 1200 && window.innerHeight >= 760) { panel.open = true; }
      });
    }
    // The charts and the legend share one column: one open at a time, so neither is squeezed.
    var legend = document.getElementById("geo-legend");
    [[panel, legend], [legend, panel]].forEach(function (pair) {
      if (!pair[0] || !pair[1]) { return; }
      pair[0].addEventListener("toggle", function () {
        if (pair[0].open) { pair[1].open = false; }
      });
    });
  };
})();
