/* cxreport — sortable tables. The report's only script: no network, no storage, no data from outside.
 * A click (or Enter) on a column header sorts the table's body by that column; again reverses it.
 * Numbers are read in the report's locale ("1,234.5", "1 234,5", "−3,2 %", "[1.0; 2.0]" by its first number).
 */
(function () {
  "use strict";
  var lang = document.documentElement.getAttribute("lang") || "en";
  function num(text) {
    var s = text.replace(/\u2212/g, "-").replace(/[\s\u00a0\u202f]/g, "");
    var m = s.match(/-?[\d.,]+/);
    if (!m) { return null; }
    var v = m[0];
    if (lang === "en") { v = v.replace(/,/g, ""); } else { v = v.replace(/\./g, "").replace(",", "."); }
    var x = parseFloat(v);
    return isNaN(x) ? null : x;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) {
      var cell = row.cells[col];
      var text = cell ? cell.textContent.trim() : "";
      return { row: row, i: i, text: text, num: num(text) };
    });
    var numeric = keyed.every(function (k) { return k.num !== null || k.text === "" || k.text === "–" || k.text === "—"; });
    keyed.sort(function (a, b) {
      var d;
      if (numeric) {
        d = (a.num === null ? -Infinity : a.num) - (b.num === null ? -Infinity : b.num);
      } else {
        d = a.text.localeCompare(b.text, lang);
      }
      return d !== 0 ? dir * d : a.i - b.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    if (!table.tHead || !table.tBodies.length || table.querySelector("[rowspan],[colspan]") || table.tBodies[0].rows.length < 3) {
      return;
    }
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.classList.add("cx-sortable");
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); sortBy(table, col, th); }
      });
    });
  });
}());
