/* Sortable tables: every header cell of a table marked data-sortable becomes a button that sorts the body's rows
   by that column, ascending then descending (aria-sort says which). Cells are compared as numbers where the header
   says data-sort="number" (an empty or "—" cell sorts last), otherwise as text. No inline handlers: the Content
   Security Policy allows none. Rows added to the body later (portal.js builds long tables) are sorted too. */
(function () {
  "use strict";

  function key(cell, numeric) {
    var text = cell ? cell.textContent.trim() : "";
    if (!numeric) return text;
    var value = parseFloat(text.replace("\u2212", "-"));
    return isNaN(value) ? null : value;
  }

  function compare(a, b, numeric) {
    if (a === null || a === "") return b === null || b === "" ? 0 : 1;
    if (b === null || b === "") return -1;
    return numeric ? a - b : a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, th, column) {
    var numeric = th.getAttribute("data-sort") === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, index: index, key: key(row.cells[column], numeric) };
    });
    rows.sort(function (a, b) {
      var missingA = a.key === null || a.key === "", missingB = b.key === null || b.key === "";
      if (missingA || missingB) return compare(a.key, b.key, numeric) || a.index - b.index; // missing last
      var order = compare(a.key, b.key, numeric);
      return (ascending ? order : -order) || a.index - b.index;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (item) { fragment.appendChild(item.row); });
    body.appendChild(fragment);
    table.querySelectorAll("thead th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function setup(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { sortBy(table, th, column); });
    });
  }

  function start() {
    document.querySelectorAll("table[data-sortable]").forEach(setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
