/* The portal's page behaviour: plotly figures embedded as JSON, clicks from diagram points to material pages,
   the unstable-entry cutoff, the periodic-table picker and small form helpers. No dependencies but plotly.js,
   which the pages that draw figures load from the portal itself. */
(function () {
  "use strict";

  function readFigure(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var originals = new WeakMap(); // figure div -> deep copy of the unstable trace as served

  function filterTrace(trace, cutoff) {
    var custom = trace.customdata || [];
    var keep = [];
    for (var i = 0; i < custom.length; i++) if (custom[i][1] <= cutoff + 1e-9) keep.push(i);
    var update = {};
    ["x", "y", "z", "a", "b", "c", "text", "hovertext", "customdata"].forEach(function (key) {
      if (Array.isArray(trace[key])) update[key] = [keep.map(function (i) { return trace[key][i]; })];
    });
    if (trace.marker && Array.isArray(trace.marker.color)) {
      update["marker.color"] = [keep.map(function (i) { return trace.marker.color[i]; })];
    }
    return update;
  }

  function applyCutoff(div, cutoff) {
    var original = originals.get(div);
    if (!original || !div.data) return;
    window.Plotly.restyle(div, filterTrace(original.trace, cutoff), [original.index]);
  }

  function imageName(div) {
    var heading = document.querySelector("h1");
    var text = (heading ? heading.textContent : "") + " " + div.getAttribute("data-figure");
    return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "figure";
  }

  function renderFigures() {
    var nodes = document.querySelectorAll("[data-figure]");
    var pending = [];
    nodes.forEach(function (div) {
      var fig = readFigure(div.getAttribute("data-figure"));
      if (!fig || !window.Plotly) return;
      var config = {
        responsive: true,
        displaylogo: false,
        scrollZoom: false,
        // the camera button saves a PNG named after the page's heading (not plotly's "newplot.png")
        toImageButtonOptions: { filename: imageName(div) },
      };
      var unstableIndex = (fig.data || []).findIndex(function (t) { return t.meta && t.meta.role === "unstable"; });
      if (unstableIndex >= 0) {
        originals.set(div, { index: unstableIndex, trace: JSON.parse(JSON.stringify(fig.data[unstableIndex])) });
        var slider = document.getElementById(div.getAttribute("data-cutoff") || "");
        if (slider) {
          var filtered = filterTrace(fig.data[unstableIndex], parseFloat(slider.value));
          Object.keys(filtered).forEach(function (key) {
            var value = filtered[key][0];
            if (key === "marker.color") fig.data[unstableIndex].marker.color = value;
            else fig.data[unstableIndex][key] = value;
          });
        }
      }
      pending.push(window.Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
        if (div.getAttribute("data-click") === "material") {
          div.on("plotly_click", function (event) {
            var point = event && event.points && event.points[0];
            if (point && point.customdata) {
              window.location.href = "/materials/" + encodeURIComponent(point.customdata[0]) + "/";
            }
          });
        }
      }));
    });
    return Promise.all(pending).then(function () {
      window.portalFiguresReadyAt = window.performance.now(); // ms since navigation start
      window.portalFiguresReady = true;
    });
  }

  function fmt(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function link(publicId, text) {
    var a = document.createElement("a");
    a.href = "/materials/" + encodeURIComponent(publicId) + "/";
    a.textContent = text;
    return a;
  }

  function buildRowTables() {
    document.querySelectorAll("table[data-rows]").forEach(function (table) {
      var rows = readFigure(table.getAttribute("data-rows")) || [];
      var body = table.tBodies[0];
      var fragment = document.createDocumentFragment();
      rows.forEach(function (r) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-ehull", r[4] ? "0" : r[3] === null ? "" : String(r[3]));
        var cells = [];
        for (var i = 0; i < 5; i++) cells.push(tr.appendChild(document.createElement("td")));
        cells[0].appendChild(link(r[1], r[0]));
        if (r[5]) {
          var badge = cells[0].appendChild(document.createElement("span"));
          badge.className = "new-badge";
          badge.textContent = "new";
        }
        cells[1].textContent = r[1];
        cells[2].className = cells[3].className = "num";
        cells[2].textContent = fmt(r[2], 4);
        cells[3].textContent = fmt(r[3], 4);
        if (r[4]) cells[4].textContent = "stable";
        r[6].forEach(function (part, index) {
          if (index) cells[4].appendChild(document.createTextNode(" + "));
          cells[4].appendChild(link(part[0], part[1]));
          cells[4].appendChild(document.createTextNode(" (" + fmt(part[2], 2) + ")"));
        });
        fragment.appendChild(tr);
      });
      body.appendChild(fragment);
    });
  }

  function setupCutoff() {
    var slider = document.getElementById("cutoff");
    if (!slider) return;
    var output = document.getElementById("cutoff-value");
    var hidden = document.getElementById("cutoff-hidden");
    var div = document.getElementById(slider.getAttribute("data-target"));
    var rows = document.querySelectorAll("[data-cutoff-table] tbody tr");
    var frame = null;
    function hideRows(cutoff) {
      rows.forEach(function (row) {
        var value = row.getAttribute("data-ehull");
        row.hidden = value !== "" && parseFloat(value) > cutoff + 1e-9;
      });
    }
    hideRows(parseFloat(slider.value));
    function update() {
      frame = null;
      var cutoff = parseFloat(slider.value);
      if (output) output.textContent = cutoff.toFixed(3);
      if (hidden) hidden.value = cutoff;
      hideRows(cutoff);
      if (div) applyCutoff(div, cutoff);
      var url = new URL(window.location.href);
      url.searchParams.set("cutoff", cutoff);
      window.history.replaceState(null, "", url);
    }
    slider.addEventListener("input", function () {
      if (frame === null) frame = window.requestAnimationFrame(update);
    });
    var showAll = document.getElementById("show-all-rows");
    if (showAll) showAll.addEventListener("click", function () { rows.forEach(function (r) { r.hidden = false; }); });
  }

  function setupPicker() {
    var table = document.getElementById("ptable");
    if (!table) return;
    function field() {
      var chosen = document.querySelector('input[name="_pick"]:checked');
      return document.getElementById("f-" + (chosen ? chosen.value : "elements"));
    }
    function values(input) {
      return input.value.split(/[\s,]+/).filter(function (v) { return v; });
    }
    // what a picked element means, said to screen readers as well as by its colour and mark
    var meaning = {
      elements: "contains",
      elements_any: "contains any of",
      elements_only: "only these",
      exclude_elements: "excluded",
    };
    function mark() {
      table.querySelectorAll(".el").forEach(function (button) {
        if (!button.hasAttribute("data-label")) {
          button.setAttribute("data-label", button.getAttribute("aria-label") || button.getAttribute("data-el"));
        }
        var states = [];
        Object.keys(meaning).forEach(function (name) {
          var input = document.getElementById("f-" + name);
          var picked = input && values(input).indexOf(button.getAttribute("data-el")) >= 0;
          button.classList.toggle("pick-" + name, Boolean(picked));
          if (picked) states.push(meaning[name]);
        });
        button.setAttribute("aria-pressed", states.length ? "true" : "false");
        var label = button.getAttribute("data-label");
        button.setAttribute("aria-label", states.length ? label + " (" + states.join(", ") + ")" : label);
      });
    }
    table.addEventListener("click", function (event) {
      var button = event.target.closest(".el");
      if (!button) return;
      var input = field();
      var list = values(input);
      var symbol = button.getAttribute("data-el");
      var at = list.indexOf(symbol);
      if (at >= 0) list.splice(at, 1); else list.push(symbol);
      input.value = list.join(",");
      mark();
    });
    document.querySelectorAll('[id^="f-"]').forEach(function (input) { input.addEventListener("input", mark); });
    mark();
  }

  function setupForms() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var form = document.getElementById("search-form");
    if (form) {
      // Keep shared URLs short: empty fields are not sent.
      form.addEventListener("submit", function () {
        form.querySelectorAll("input, select").forEach(function (input) {
          if (input.name && input.value === "" && input.type !== "checkbox") input.disabled = true;
        });
      });
      window.addEventListener("pageshow", function () {
        form.querySelectorAll(":disabled").forEach(function (input) { input.disabled = false; });
      });
    }
  }

  // Bar widths (percent) given as data attributes: the Content Security Policy allows no inline styles.
  function setupBars() {
    document.querySelectorAll("[data-width]").forEach(function (bar) {
      bar.style.width = bar.getAttribute("data-width") + "%";
    });
  }

  // The discovery dashboard's training form: the estimate from the rates the page carries (seconds once, and
  // per member and epoch, per kind and preset) as the kind, preset, members and epochs change.
  function setupTrainingEstimate() {
    var form = document.getElementById("training-form");
    var rates = readFigure("training-rates");
    var output = document.getElementById("training-estimate");
    if (!form || !rates || !output) return;
    function update() {
      var rate = rates[form.elements.kind.value + "/" + form.elements.preset.value];
      if (!rate) return;
      var members = parseInt(form.elements.n_models.value, 10) || 1;
      var epochs = parseInt(form.elements.epochs.value, 10) || rate.epochs;
      var seconds = rate.fixed + rate.per_member_epoch * members * epochs;
      output.textContent = "about " + (seconds < 120 ? Math.round(seconds) + " s" : Math.round(seconds / 60) + " min") +
        " (" + members + " × " + epochs + " epochs)";
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  // The small-screen menu: a button that says whether the menu is open (keyboard and screen readers alike).
  function setupMenu() {
    var button = document.getElementById("nav-button");
    if (!button) return;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function start() {
    setupMenu();
    setupBars();
    setupTrainingEstimate();
    setupForms();
    setupPicker();
    // Long tables are built after the figures are drawn, off the path to an interactive diagram.
    function tables() {
      buildRowTables();
      setupCutoff();
      window.portalReady = true;
    }
    renderFigures().then(tables, tables);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
