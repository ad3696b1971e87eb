/* The phase-diagram page's figure downloads: each button [data-image-download="png|svg"] saves the plotly
   figure of its [data-target] as an image file, drawn by plotly.js in the browser (nothing leaves the page).
   Plotly's own modebar camera button saves PNG too. */
(function () {
  "use strict";

  function setup() {
    document.querySelectorAll("button[data-image-download]").forEach(function (button) {
      button.addEventListener("click", function () {
        var div = document.getElementById(button.getAttribute("data-target"));
        if (!div || !div.data || !window.Plotly) return; // not drawn yet
        var format = button.getAttribute("data-image-download");
        window.Plotly.downloadImage(div, {
          format: format,
          filename: button.getAttribute("data-filename") || "phase_diagram",
          width: div.clientWidth,
          height: div.clientHeight,
          scale: format === "png" ? 2 : 1
        });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
