/* The material page's view controls: the "bonds" and "polyhedra" boxes show or hide those parts of the drawn
   structure at once (no reload) and keep the address in step, so a reload or a shared link shows the same view;
   a click on their legend entries ticks the boxes to match. The cell and the colours need the server: the
   "Redraw" button sends the form. Without scripts or before plotly has drawn, the form does it all. */
(function () {
  "use strict";

  var ROLES = ["bonds", "polyhedra"];

  function figure() {
    var div = document.getElementById("structure-view");
    return div && div.data && window.Plotly ? div : null;
  }

  function traceIndices(div, role) {
    var picked = [];
    div.data.forEach(function (trace, index) {
      if (trace.meta && trace.meta.role === role) picked.push(index);
    });
    return picked;
  }

  function remember(role, shown) {
    var url = new URL(window.location.href);
    url.searchParams.set(role, shown ? "1" : "0");
    window.history.replaceState(null, "", url);
    // the symmetry form carries the view along
    document.querySelectorAll('input[type="hidden"][data-view="' + role + '"]').forEach(function (input) {
      input.value = shown ? "1" : "0";
    });
  }

  function onBoxChange(event) {
    var box = event.target;
    var div = figure();
    if (!div) return;
    var indices = traceIndices(div, box.name);
    if (!indices.length) return;
    window.Plotly.restyle(div, { visible: box.checked ? true : "legendonly" }, indices);
    remember(box.name, box.checked);
  }

  function syncFromLegend() {
    var div = figure();
    if (!div) return;
    ROLES.forEach(function (role) {
      var indices = traceIndices(div, role);
      var box = document.getElementById("view-" + role);
      if (!indices.length || !box) return;
      var shown = div.data[indices[0]].visible === true || div.data[indices[0]].visible === undefined;
      if (box.checked !== shown) {
        box.checked = shown;
        remember(role, shown);
      }
    });
  }

  function start() {
    ROLES.forEach(function (role) {
      var box = document.getElementById("view-" + role);
      if (box) box.addEventListener("change", onBoxChange);
    });
    var view = document.getElementById("structure-view");
    if (!view) return;
    // plotly's own events exist once it has drawn: listen from the first pointer over the figure on
    var listening = false;
    view.addEventListener(
      "pointerdown",
      function () {
        var div = figure();
        if (listening || !div || !div.on) return;
        div.on("plotly_restyle", syncFromLegend);
        listening = true;
      },
      true
    );
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
