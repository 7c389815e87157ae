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
  window.geoTable = table;
  window.geoLayer = function (data, o) {
    var layer = L.geoJSON(data, {
      interactive: o.interactive !== false,
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
    layer.geoData = data;  // another layer may draw the same features (the province edges over the bands)
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
  /* One layer of the layer control drawn from a different part at each range of zooms ([layer, from,
     below]). A part added anew is drawn last, so the layers made after this one are brought back on top,
     in their order. */
  window.geoZoomGroup = function (map, parts) {
    var group = L.layerGroup();
    function restack() {
      var after = false;
      Object.keys(window.geoLayers || {}).forEach(function (name) {
        var l = window.geoLayers[name];
        if (l === group) { after = true; }
        else if (after && map.hasLayer(l) && l.bringToFront) { l.bringToFront(); }
      });
    }
    function update() {
      var z = map.getZoom(), changed = false;
      parts.forEach(function (p) {
        var on = z >= p[1] && z < p[2];
        if (on !== group.hasLayer(p[0])) {
          changed = true;
          if (on) { group.addLayer(p[0]); } else { group.removeLayer(p[0]); }
        }
      });
      if (changed && map.hasLayer(group)) { restack(); }
    }
    map.on("zoomend", update);
    group.on("add", restack);
    update();
    return group;
  };
  /* A layer shown only below a zoom (the density grid, where the hazards' points take over); a layer
     the reader switched off stays off. */
  window.geoBelowZoom = function (map, layer, zoom) {
    var hidden = false, before = map.getZoom();
    map.on("zoomend", function () {
      var now = map.getZoom();
      if (before < zoom && now >= zoom && map.hasLayer(layer)) { hidden = true; map.removeLayer(layer); }
      else if (before >= zoom && now < zoom && hidden) { hidden = false; layer.addTo(map); }
      before = now;
    });
  };
  /* A search box (leaflet-search) with geo's common options: suggestions built as text nodes (the
     plugin's default tip parses the value as HTML) and a visible label on the button (two magnifier
     icons alone do not say what they search). */
  window.geoSearchBox = function (map, options, placeholder) {
    var control = new L.Control.Search(L.extend({
      marker: false, collapsed: true, initial: false,
      textPlaceholder: placeholder, textErr: "Not found", position: "topleft",
      buildTip: function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        return li;
      }
    }, options));
    control.addTo(map);
    var button = control.getContainer().querySelector(".search-button");
    if (button) {
      button.setAttribute("data-label", placeholder);
      button.setAttribute("aria-label", "Search by " + placeholder.toLowerCase());
      button.title = "Search by " + placeholder.toLowerCase();
    }
    return control;
  };
  window.geoSearch = function (map, layer, prop, placeholder) {
    return window.geoSearchBox(map, {
      layer: layer, propertyName: prop,
      moveToLocation: function (latlng, title, m) {
        if (latlng.layer.getBounds) { m.fitBounds(latlng.layer.getBounds(), { maxZoom: 15 }); }
        else { m.setView(latlng, 15); }  // a point: street level
      }
    }, placeholder).on("search:locationfound", function (e) {
      if (!map.hasLayer(layer)) { layer.addTo(map); }
      if (e.layer.openTooltip) { e.layer.openTooltip(); }
    });
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

/* Every hazard as a point, from packed columns (base64 typed arrays; ids as a JSON list of text), for
   maps with too many hazards to draw their shapes.  Only the points in view are drawn, on one canvas,
   from a zoom on; a grid index finds them.  Hover or tap names the hazard (text set with textContent). */
(function () {
  function decode(b64, Type) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return new Type(bytes.buffer);
  }
  function areaText(m2) {
    return Math.round(m2).toLocaleString("en-US") + " m² ("
      + (m2 / 1e4).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " ha)";
  }
  var CELL = 0.02;  // grid index cell, degrees (about 2 km)

  // Made on first use: this script is read before Leaflet's.
  var Points = null;
  var methods = {
    initialize: function (d, o) {
      this._d = d; this._o = o;
      var n = d.ids.length, s = d.scale;
      var lonI = decode(d.lon, Int32Array), latI = decode(d.lat, Int32Array);
      this.lon = new Float64Array(n); this.lat = new Float64Array(n);
      for (var i = 0; i < n; i++) { this.lon[i] = lonI[i] / s; this.lat[i] = latI[i] / s; }
      this.area = decode(d.area_m2, Float64Array);
      this.band = decode(d.band, Uint8Array);
      this.province = decode(d.province, Uint8Array);
      this.n = n;
      // Grid index: points sorted by cell (counting sort), with each cell's start in the order.
      var w = Infinity, so = Infinity, e = -Infinity, no = -Infinity;
      for (i = 0; i < n; i++) {
        w = Math.min(w, this.lon[i]); e = Math.max(e, this.lon[i]);
        so = Math.min(so, this.lat[i]); no = Math.max(no, this.lat[i]);
      }
      if (!n) { w = so = e = no = 0; }
      this.x0 = w; this.y0 = so;
      this.nx = Math.floor((e - w) / CELL) + 1; this.ny = Math.floor((no - so) / CELL) + 1;
      var cells = new Int32Array(n), start = new Int32Array(this.nx * this.ny + 1);
      for (i = 0; i < n; i++) {
        cells[i] = Math.floor((this.lat[i] - so) / CELL) * this.nx + Math.floor((this.lon[i] - w) / CELL);
        start[cells[i] + 1]++;
      }
      for (i = 0; i < this.nx * this.ny; i++) { start[i + 1] += start[i]; }
      var fill = start.slice(0, this.nx * this.ny), order = new Int32Array(n);
      for (i = 0; i < n; i++) { order[fill[cells[i]]++] = i; }
      this.start = start; this.order = order;
      this.found = -1;
      this._index = null;
    },
    // The points inside a box of degrees (west, south, east, north), as indexes.
    within: function (w, so, e, no) {
      var out = [];
      var c0 = Math.max(0, Math.floor((w - this.x0) / CELL)), c1 = Math.min(this.nx - 1, Math.floor((e - this.x0) / CELL));
      var r0 = Math.max(0, Math.floor((so - this.y0) / CELL)), r1 = Math.min(this.ny - 1, Math.floor((no - this.y0) / CELL));
      for (var r = r0; r <= r1; r++) {
        for (var k = this.start[r * this.nx + c0]; k < this.start[r * this.nx + c1 + 1]; k++) {
          var i = this.order[k];
          if (this.lon[i] >= w && this.lon[i] <= e && this.lat[i] >= so && this.lat[i] <= no) { out.push(i); }
        }
      }
      return out;
    },
    // The hazard's position in the list of ids (built on first use: the search needs it, drawing does not).
    indexOf: function (id) {
      if (!this._index) {
        this._index = new Map();
        for (var i = 0; i < this.n; i++) { this._index.set(this._d.ids[i], i); }
      }
      return this._index.has(id) ? this._index.get(id) : -1;
    },
    shown: function () {
      return this._map && (this._map.getZoom() >= this._o.minZoom || this.found >= 0);
    },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "geo-points leaflet-zoom-hide");
      map.getPane("overlayPane").appendChild(this._canvas);
      map.on("moveend resize", this._draw, this);
      map.on("zoomstart", this._hide, this);
      map.on("mousemove click", this._pointer, this);
      this._draw();
    },
    onRemove: function (map) {
      map.off("moveend resize", this._draw, this);
      map.off("zoomstart", this._hide, this);
      map.off("mousemove click", this._pointer, this);
      this._closeTip();
      L.DomUtil.remove(this._canvas);
    },
    _hide: function () { this._canvas.style.display = "none"; },
    _draw: function () {
      var map = this._map, c = this._canvas;
      if (!map) { return; }
      var size = map.getSize(), dpr = window.devicePixelRatio || 1;
      L.DomUtil.setPosition(c, map.containerPointToLayerPoint([0, 0]));
      c.width = size.x * dpr; c.height = size.y * dpr;
      c.style.width = size.x + "px"; c.style.height = size.y + "px";
      c.style.display = "";
      var ctx = c.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      this.drawn = 0;
      if (!this.shown()) { return; }
      var b = map.getBounds().pad(0.02), r = this._o.radius;
      var idx = map.getZoom() >= this._o.minZoom ? this.within(b.getWest(), b.getSouth(), b.getEast(), b.getNorth()) : [];
      if (this.found >= 0 && idx.indexOf(this.found) < 0) { idx.push(this.found); }
      var byBand = {};
      for (var k = 0; k < idx.length; k++) { (byBand[this.band[idx[k]]] = byBand[this.band[idx[k]]] || []).push(idx[k]); }
      ctx.lineWidth = 0.8; ctx.strokeStyle = "#222";
      for (var band in byBand) {
        ctx.beginPath();
        byBand[band].forEach(function (i) {
          var p = map.latLngToContainerPoint([this.lat[i], this.lon[i]]);
          ctx.moveTo(p.x + r, p.y); ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
        }, this);
        ctx.globalAlpha = 0.95; ctx.fillStyle = this._d.bands[band][1]; ctx.fill();
        ctx.globalAlpha = 1; ctx.stroke();
      }
      if (this.found >= 0) {
        var q = map.latLngToContainerPoint([this.lat[this.found], this.lon[this.found]]);
        ctx.beginPath(); ctx.arc(q.x, q.y, r + 5, 0, 2 * Math.PI);
        ctx.lineWidth = 3; ctx.strokeStyle = "#e00"; ctx.stroke();
      }
      this.drawn = idx.length;
    },
    // The point under the pointer (within its radius and a few pixels more for a finger), or -1.
    at: function (containerPoint, slack) {
      var map = this._map, r = this._o.radius + slack;
      var a = map.containerPointToLatLng([containerPoint.x - r, containerPoint.y + r]);
      var z = map.containerPointToLatLng([containerPoint.x + r, containerPoint.y - r]);
      var idx = this.shown() ? this.within(a.lng, a.lat, z.lng, z.lat) : [];
      if (this.found >= 0 && idx.indexOf(this.found) < 0) { idx.push(this.found); }
      var best = -1, bestD = r * r;
      idx.forEach(function (i) {
        var p = map.latLngToContainerPoint([this.lat[i], this.lon[i]]);
        var d2 = (p.x - containerPoint.x) * (p.x - containerPoint.x) + (p.y - containerPoint.y) * (p.y - containerPoint.y);
        if (d2 <= bestD) { bestD = d2; best = i; }
      }, this);
      return best;
    },
    rows: function (i) {
      return [["Hazard", this._d.ids[i]], ["Province", this._d.provinces[this.province[i]]],
              ["Area", areaText(this.area[i])], ["Band", this._d.bands[this.band[i]][0]]];
    },
    openTip: function (i) {
      var d = document.createElement("div");
      d.className = "foliumtooltip geo-tooltip";
      d.appendChild(window.geoTable(this.rows(i).filter(function (r) { return r[1] !== ""; })));
      this._closeTip();
      this._tip = L.tooltip({ direction: "top", offset: [0, -this._o.radius], className: "geo-point-tip" })
        .setLatLng([this.lat[i], this.lon[i]]).setContent(d);
      this._map.openTooltip(this._tip);
      this._tipAt = i;
    },
    _closeTip: function () {
      if (this._tip && this._map) { this._map.closeTooltip(this._tip); }
      this._tip = null; this._tipAt = -1;
    },
    _pointer: function (e) {
      var touch = e.type === "click" && e.originalEvent && e.originalEvent.pointerType === "touch";
      var i = this.at(e.containerPoint, touch ? 12 : 2);
      this._map.getContainer().classList.toggle("geo-over-point", i >= 0);
      if (i >= 0 && i !== this._tipAt) { this.openTip(i); }
      else if (i < 0 && this._tipAt >= 0) { this._closeTip(); }
    }
  };

  window.geoPoints = function (data, options) {
    Points = Points || L.Layer.extend(methods);
    return new Points(data, options);
  };

  /* The hazard-id search over the packed points: suggestions are ids containing what was typed (any
     case), at most 20, each built as a text node; the map goes to the hazard found, draws it with a
     ring whatever the zoom, and names it. */
  window.geoPointSearch = function (map, layer, placeholder) {
    var LIMIT = 20;
    function own(obj, key, value) {  // an own property even for a key such as "__proto__"
      Object.defineProperty(obj, key, { value: value, enumerable: true, writable: true, configurable: true });
    }
    return window.geoSearchBox(map, {
      sourceData: function (text, done) {
        var want = String(text).toLowerCase(), out = {}, n = 0, ids = layer._d.ids;
        var exact = layer.indexOf(String(text));
        if (exact >= 0) {  // the id typed in full is always a suggestion (and Enter finds it)
          var hit = L.latLng(layer.lat[exact], layer.lon[exact]);
          hit.index = exact; own(out, ids[exact], hit); n++;
        }
        for (var i = 0; i < ids.length && n < LIMIT; i++) {
          if (i !== exact && ids[i].toLowerCase().indexOf(want) >= 0) {
            var ll = L.latLng(layer.lat[i], layer.lon[i]);
            ll.index = i; own(out, ids[i], ll); n++;
          }
        }
        done(out);
        return { abort: function () {} };
      },
      formatData: function (records) { return records; },
      filterData: function (text, records) { return records; },
      tooltipLimit: LIMIT,
      moveToLocation: function (latlng, title, m) { m.setView(latlng, Math.max(15, m.getZoom())); }
    }, placeholder).on("search:locationfound", function (e) {
      var i = e.latlng.index != null ? e.latlng.index : layer.indexOf(e.text);
      if (i < 0) { return; }
      layer.found = i;
      if (!map.hasLayer(layer)) { layer.addTo(map); }
      map.once("moveend", function () { layer._draw(); layer.openTip(i); });
      layer._draw();
      layer.openTip(i);
    });
  };
})();
