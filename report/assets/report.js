// Sorting and filtering for the report's tables. The page is complete
// without it: it only adds controls, and it touches the page through
// textContent and attributes, never through markup.
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v !== null ? v : cell.textContent;
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) {
      return x - y;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, i) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r, s) {
          var c = compare(key(r.cells[i]), key(s.cells[i]));
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("table[data-filterable]"), function (table) {
    var label = document.createElement("label");
    label.className = "filter";
    label.textContent = "Filter rows: ";
    var input = document.createElement("input");
    input.type = "search";
    input.setAttribute("aria-controls", table.id);
    label.appendChild(input);
    var shown = document.createElement("span");
    shown.className = "shown";
    label.appendChild(shown);
    table.parentNode.insertBefore(label, table);
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      var n = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var hit = q === "" || r.textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !hit;
        if (hit) { n++; }
      });
      shown.textContent = q === "" ? "" : " " + n + " shown";
    });
  });
})();
// Decisions: each row of a privileged member or of a finding that names a
// membership (class decidable: its first cells are group, username and
// sub, as the page shows them) can be marked keep or revoke, with a comment; the reviewer's
// name and the marks become decisions.csv, built here as a Blob and sent
// nowhere. Its cells follow the program's CSV rules (sink): a cell a
// spreadsheet would evaluate gets a leading quote, quoted where needed.
(function () {
  "use strict";
  var controls = document.getElementById("decide-controls");
  if (!controls) { return; }
  controls.hidden = false;
  document.getElementById("decide-noscript").hidden = true;
  var columns = ["user_pool_id", "group_name", "username", "user_sub", "decision", "reviewer", "decided_at", "comment", "manifest_sha256"];
  var marks = {}; // by membership: {decision, comment, at}
  function group(tr) { return tr.cells[0].textContent; }
  function user(tr) { return tr.cells[1].textContent; }
  function sub(tr) { return tr.cells[2].textContent; }
  function keyOf(tr) { return JSON.stringify([user(tr), sub(tr), group(tr)]); }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.decidable"));
  // Every row of one membership shows the same mark, wherever it is.
  function show(key) {
    var m = marks[key] || { decision: "", comment: "" };
    rows.forEach(function (tr) {
      if (keyOf(tr) !== key) { return; }
      tr.querySelector("select.decision").value = m.decision;
      tr.querySelector("textarea.comment").value = m.comment;
      if (m.decision) { tr.setAttribute("data-decision", m.decision); } else { tr.removeAttribute("data-decision"); }
    });
  }
  var tables = [];
  rows.forEach(function (tr) {
    var table = tr.closest("table");
    if (tables.indexOf(table) < 0) { tables.push(table); }
    var td = document.createElement("td");
    td.className = "decision";
    var select = document.createElement("select");
    select.className = "decision";
    select.setAttribute("aria-label", "Decision for " + user(tr) + " in " + group(tr));
    [["", "—"], ["keep", "keep"], ["revoke", "revoke"]].forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o[0];
      opt.textContent = o[1];
      select.appendChild(opt);
    });
    // A textarea: a reason may take more than one line, which an input
    // would silently join.
    var comment = document.createElement("textarea");
    comment.rows = 1;
    comment.className = "comment";
    comment.placeholder = "comment";
    comment.setAttribute("aria-label", "Comment");
    td.appendChild(select);
    td.appendChild(comment);
    tr.appendChild(td);
    var key = keyOf(tr);
    function update() {
      var m = marks[key] || { decision: "", comment: "", at: "" };
      if (m.decision !== select.value) { m.at = new Date().toISOString(); }
      m.decision = select.value;
      m.comment = comment.value;
      marks[key] = m;
      show(key);
    }
    select.addEventListener("change", update);
    comment.addEventListener("change", update);
  });
  tables.forEach(function (table) {
    var th = document.createElement("th");
    th.className = "decision";
    th.textContent = "Decision";
    table.tHead.rows[0].appendChild(th);
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      if (!tr.classList.contains("decidable")) { tr.appendChild(document.createElement("td")).className = "decision"; }
    });
  });
  function cell(f) {
    if (f !== "" && "=+-@\t\r'".indexOf(f.charAt(0)) >= 0) { f = "'" + f; }
    if (f === "\\." || /[,"\r\n]/.test(f) || /^\s/.test(f)) { f = "\"" + f.replace(/"/g, "\"\"") + "\""; }
    return f;
  }
  var status = document.getElementById("decide-status");
  var link = document.getElementById("decisions-link");
  document.getElementById("download-decisions").addEventListener("click", function () {
    var reviewer = document.getElementById("reviewer").value.trim();
    if (reviewer === "") {
      status.textContent = "Name the reviewer first.";
      document.getElementById("reviewer").focus();
      return;
    }
    var lines = [columns.map(cell).join(",")];
    var done = {};
    rows.forEach(function (tr) {
      var key = keyOf(tr);
      var m = marks[key];
      if (done[key] || !m || !m.decision) { return; }
      done[key] = true;
      lines.push([controls.getAttribute("data-pool"), group(tr), user(tr), sub(tr), m.decision, reviewer, m.at, m.comment, controls.getAttribute("data-manifest")].map(cell).join(","));
    });
    if (lines.length === 1) {
      status.textContent = "Mark at least one row keep or revoke.";
      return;
    }
    if (link.href) { URL.revokeObjectURL(link.href); }
    link.href = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
    link.hidden = false;
    status.textContent = (lines.length - 1) + " decisions: ";
    link.click();
  });
})();
