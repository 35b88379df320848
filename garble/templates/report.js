(function () {
"use strict";
var DATA = JSON.parse(document.getElementById("garble-data").textContent);
var DOCS = DATA.docs, DETS = DATA.detectors, UNITS = DATA.units, FLAG = DATA.flag, PER = DATA.pageSize || 200;
var enabled = DETS.map(function () { return true; });
var threshold = DATA.start != null ? DATA.start : DATA.minScore, flaggedOnly = true, hideMarked = false;
var queue = [], page = 0, cur = -1;
var byDoc = DOCS.map(function () { return []; });
UNITS.forEach(function (u, k) { u.k = k; byDoc[u.d].push(u); });
byDoc.forEach(function (l) { l.sort(function (a, b) { return a.i - b.i; }); });
var $ = function (id) { return document.getElementById(id); };
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function unitKey(u) { return JSON.stringify([DOCS[u.d].name, u.i]); }
function fmt(x) { return x.toFixed(3); }

// ---- marks (localStorage, keyed by doc + unit) ----
var STORE = "garble-review-marks", marks = {};
try { marks = JSON.parse(window.localStorage.getItem(STORE) || "{}") || {}; } catch (e) { marks = {}; }
function saveMarks() { try { window.localStorage.setItem(STORE, JSON.stringify(marks)); } catch (e) { /* private mode: keep in memory */ } }
var LABEL = { reviewed: "reviewed", false_alarm: "false alarm" };

// ---- highlights ----
function styleMark(m) {
  var ds = m._dets, vis = ds.filter(function (j) { return enabled[j]; });
  if (!vis.length) { m.classList.add("off"); m.removeAttribute("data-primary"); m.classList.remove("multi"); m.title = ""; return; }
  m.classList.remove("off");
  m.setAttribute("data-primary", DETS[vis[0]].cls);
  m.title = m._tip;
  if (vis.length > 1) { m.classList.add("multi"); m.style.setProperty("--c2", DETS[vis[1]].fg); }
  else { m.classList.remove("multi"); m.style.removeProperty("--c2"); }
}
function fillText(parent, u) {
  var t = DOCS[u.d].text, pos = u.s;
  u.hl.forEach(function (h) {
    var a = Math.max(h[0], pos), b = h[1];
    if (b <= a) return;
    if (a > pos) parent.appendChild(document.createTextNode(t.slice(pos, a)));
    var m = el("mark", "hl", t.slice(a, b));
    h[2].forEach(function (j) { m.classList.add("det-" + DETS[j].cls); });
    m.setAttribute("data-detectors", h[2].map(function (j) { return DETS[j].name; }).join(" "));
    m.setAttribute("data-start", a); m.setAttribute("data-end", b);
    m._dets = h[2]; m._tip = h[3];
    styleMark(m);
    parent.appendChild(m);
    pos = b;
  });
  if (pos < u.e) parent.appendChild(document.createTextNode(t.slice(pos, u.e)));
}
UNITS.forEach(function (u) { u.hl = u.hl || []; });

// ---- document view ----
var docBox = [], rendered = [];
function buildDocShells() {
  var box = $("docs");
  DOCS.forEach(function (d, di) {
    var sec = el("section", "doc"); sec.id = "d-" + di;
    var h = el("h3", null, d.name);
    var nflag = byDoc[di].filter(function (u) { return u.fl; }).length;
    h.appendChild(el("span", "meta", d.n + " segments · " + nflag + " flagged"));
    sec.appendChild(h);
    var body = el("div", "doctext pending", "rendering…");
    sec.appendChild(body); box.appendChild(sec);
    docBox.push(body); rendered.push(false);
  });
  if (!DOCS.length) box.appendChild(el("p", "empty", "No documents."));
}
function renderDoc(di) {
  if (rendered[di]) return;
  rendered[di] = true;
  // long documents are cut into blocks at line breaks between units (content-visibility: auto
  // skips the layout and paint of the blocks off screen); a block boundary stands for one "\n"
  var t = DOCS[di].text, pos = 0, frag = document.createDocumentFragment(), box = null, inBox = 0, lines = 0, col = 0;
  function count(s) {  // estimated rendered lines (for the placeholder height of a skipped block)
    var parts = s.split("\n");
    col += parts[0].length;
    for (var k = 1; k < parts.length; k++) { lines += Math.max(1, Math.ceil(col / 85)); col = parts[k].length; }
  }
  function sizeBox() { box.style.containIntrinsicSize = "auto " + Math.round(Math.max(1, lines + Math.ceil(col / 85)) * 24) + "px"; }
  function newBox() {
    if (box) sizeBox();
    box = el("div", "chunk"); frag.appendChild(box); inBox = 0; lines = 0; col = 0;
  }
  newBox();
  byDoc[di].forEach(function (u) {
    if (u.s > pos) {
      var gap = t.slice(pos, u.s), nl = gap.indexOf("\n");
      if (inBox >= 50 && nl >= 0) {
        if (nl > 0) box.appendChild(document.createTextNode(gap.slice(0, nl)));
        newBox();
        gap = gap.slice(nl + 1);
      }
      if (gap) { box.appendChild(document.createTextNode(gap)); count(gap); }
    }
    inBox++; count(t.slice(u.s, u.e));
    var sp = el("span", "unit" + (u.fl ? " flagged" : ""));
    sp.id = "u-" + di + "-" + u.i;
    sp._u = u; u.span = sp;
    fillText(sp, u);
    box.appendChild(sp);
    pos = Math.max(pos, u.e);
    paintMark(u);
  });
  if (pos < t.length) box.appendChild(document.createTextNode(t.slice(pos)));
  if (frag.childNodes.length > 1) sizeBox(); else box.classList.remove("chunk");
  var body = docBox[di];
  body.textContent = ""; body.classList.remove("pending");
  body.appendChild(frag);
  refreshInQueueClasses(di);
}
var pump = 0;
function pumpDocs() {
  var t0 = Date.now();
  while (pump < DOCS.length && Date.now() - t0 < 40) renderDoc(pump++);
  if (pump < DOCS.length) setTimeout(pumpDocs, 0);
  else document.documentElement.setAttribute("data-docs-ready", "1");
}

// ---- queue ----
function inQueue(u) {
  if (u.sc < threshold) return false;
  var vis = u.f.filter(function (j) { return enabled[j]; });
  if (u.f.length && !vis.length) return false;   // only hidden detectors
  if (flaggedOnly && !(u.sc >= FLAG || vis.length)) return false;
  if (hideMarked && marks[unitKey(u)]) return false;
  return true;
}
function refreshInQueueClasses(di) {
  var set = new Set(queue);
  (di == null ? UNITS : byDoc[di]).forEach(function (u) { if (u.span) u.span.classList.toggle("inq", set.has(u)); });
}
function rebuild(keepFocus) {
  var curU = cur >= 0 ? queue[cur] : null;
  queue = UNITS.filter(inQueue);
  var at = curU ? queue.indexOf(curU) : -1;
  if (at >= 0) { cur = at; page = Math.floor(at / PER); }
  else { cur = keepFocus && curU ? Math.min(cur, queue.length - 1) : -1; page = cur >= 0 ? Math.floor(cur / PER) : Math.min(page, Math.max(0, Math.ceil(queue.length / PER) - 1)); }
  renderPage();
  refreshInQueueClasses(null);
  if (keepFocus && cur >= 0) focusRow(cur, true);
  updateProgress();
}
function paintMark(u) {
  var m = marks[unitKey(u)] || "";
  ["reviewed", "false_alarm"].forEach(function (k) {
    if (u.row) {
      u.row.classList.toggle("m-" + k, m === k);
      var b = u.row.querySelector(".b-" + k); if (b) { b.classList.toggle("on", m === k); b.setAttribute("aria-pressed", m === k ? "true" : "false"); }
    }
    if (u.span) u.span.classList.toggle("m-" + k, m === k);
  });
  if (u.row) u.row.querySelector(".state").textContent = m ? LABEL[m] : "";
}
function setMark(u, m) {
  var k = unitKey(u);
  if (!m || marks[k] === m) delete marks[k]; else marks[k] = m;
  saveMarks(); paintMark(u);
  if (hideMarked) rebuild(true); else updateProgress();
}
function makeRow(u, q) {
  var li = el("li", "qrow" + (u.sc >= FLAG ? " hot" : ""));
  li.tabIndex = -1; li.id = "q-" + u.d + "-" + u.i;
  li.setAttribute("data-q", q); li.setAttribute("data-doc", DOCS[u.d].name); li.setAttribute("data-unit", u.i); li.setAttribute("data-score", u.sc);
  var head = el("div", "qhead");
  head.appendChild(el("span", "rank", "#" + (u.k + 1)));
  head.appendChild(el("span", "score", fmt(u.sc)));
  var a = el("a", "loc", DOCS[u.d].name + " · unit " + (u.i + 1));
  a.href = "#u-" + u.d + "-" + u.i; a.title = "show in the document (rank " + u.r + " in its document)";
  a.addEventListener("click", function (ev) { ev.preventDefault(); cur = q; selectRow(); showInDoc(u, true); });
  head.appendChild(a);
  head.appendChild(el("span", "state", ""));
  li.appendChild(head);
  var p = el("div", "qtext"); fillText(p, u); li.appendChild(p);
  if (u.why.length) { var ul = el("ul", "why"); u.why.forEach(function (r) { ul.appendChild(el("li", null, r)); }); li.appendChild(ul); }
  var acts = el("div", "actions");
  [["reviewed", "✓ reviewed"], ["false_alarm", "✗ false alarm"]].forEach(function (b) {
    var btn = el("button", "b-" + b[0], b[1]); btn.type = "button";
    btn.addEventListener("click", function (ev) { ev.stopPropagation(); cur = q; selectRow(); setMark(u, b[0]); });
    acts.appendChild(btn);
  });
  li.appendChild(acts);
  li.addEventListener("click", function (ev) { if (ev.target.closest("a,button")) return; cur = q; selectRow(); showInDoc(u, false); });
  u.row = li;
  paintMark(u);
  return li;
}
function pagerInto(box) {
  box.textContent = "";
  var n = queue.length, pages = Math.max(1, Math.ceil(n / PER));
  var prev = el("button", null, "‹ prev"); prev.type = "button"; prev.disabled = page <= 0;
  prev.addEventListener("click", function () { gotoPage(page - 1); });
  var next = el("button", null, "next ›"); next.type = "button"; next.disabled = page >= pages - 1;
  next.addEventListener("click", function () { gotoPage(page + 1); });
  var info = n ? (page * PER + 1) + "–" + Math.min(n, (page + 1) * PER) + " of " + n + " units · page " + (page + 1) + "/" + pages : "no units match the filters";
  box.appendChild(prev); box.appendChild(el("span", "pinfo", info)); box.appendChild(next);
}
function gotoPage(p) { var pages = Math.max(1, Math.ceil(queue.length / PER)); page = Math.max(0, Math.min(pages - 1, p)); cur = -1; renderPage(); $("queue-pane").scrollTop = 0; }
function renderPage() {
  var list = $("queue");
  UNITS.forEach(function (u) { u.row = null; });
  list.textContent = "";
  var frag = document.createDocumentFragment();
  for (var q = page * PER; q < Math.min(queue.length, (page + 1) * PER); q++) frag.appendChild(makeRow(queue[q], q));
  list.appendChild(frag);
  if (!queue.length) list.appendChild(el("li", "empty", "No unit matches the filters."));
  pagerInto($("pager")); pagerInto($("pager2"));
  selectRow();
}
function selectRow() {
  var prev = document.querySelector(".qrow.current"); if (prev) prev.classList.remove("current");
  if (cur >= 0 && queue[cur] && queue[cur].row) queue[cur].row.classList.add("current");
}
function focusRow(q, quiet) {
  if (q < 0 || q >= queue.length) return;
  var p = Math.floor(q / PER);
  if (p !== page) { page = p; renderPage(); }
  cur = q; selectRow();
  var row = queue[q].row;
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
  if (!quiet) showInDoc(queue[q], false);
}
var curSpan = null;
function showInDoc(u, flash) {
  renderDoc(u.d);
  var sp = u.span; if (!sp) return;
  if (curSpan) curSpan.classList.remove("current");
  curSpan = sp; sp.classList.add("current");
  var pane = $("doc-pane"), pr = pane.getBoundingClientRect(), r = sp.getBoundingClientRect();
  if (pane.scrollHeight > pane.clientHeight + 1) {
    if (r.top < pr.top + 40 || r.bottom > pr.bottom - 40) pane.scrollTop += r.top - pr.top - pane.clientHeight / 3;
  } else if (flash) { sp.scrollIntoView({ block: "center" }); }
  if (flash) { sp.classList.remove("flash"); void sp.offsetWidth; sp.classList.add("flash"); }
}
function updateProgress() {
  var r = 0, f = 0;
  UNITS.forEach(function (u) { var m = marks[unitKey(u)]; if (m === "reviewed") r++; else if (m === "false_alarm") f++; });
  $("progress").textContent = queue.length + " in queue · " + r + " reviewed · " + f + " false alarm" + (f === 1 ? "" : "s");
}

// ---- filters ----
function applyDetectorFilter() {
  document.querySelectorAll("mark.hl").forEach(styleMark);
  rebuild(false);
}
document.querySelectorAll("input.detfilter").forEach(function (cb) {
  cb.addEventListener("change", function () { enabled[+cb.getAttribute("data-det")] = cb.checked; applyDetectorFilter(); });
});
var raf = 0;
$("threshold").addEventListener("input", function (ev) {
  threshold = parseFloat(ev.target.value) || 0;
  $("threshold-value").textContent = threshold.toFixed(2);
  if (!raf) raf = requestAnimationFrame(function () { raf = 0; rebuild(false); });
});
$("flagged-only").addEventListener("change", function (ev) { flaggedOnly = ev.target.checked; rebuild(false); });
$("hide-marked").addEventListener("change", function (ev) { hideMarked = ev.target.checked; rebuild(false); });

// ---- export ----
$("export").addEventListener("click", function () {
  var lines = [];
  UNITS.forEach(function (u) {
    var m = marks[unitKey(u)]; if (!m) return;
    lines.push(JSON.stringify({ doc: DOCS[u.d].name, unit: u.i, start: u.o[0], end: u.o[1], text: DOCS[u.d].text.slice(u.s, u.e), score: u.sc, mark: m }));
  });
  var blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")], { type: "application/x-ndjson" });
  var a = el("a"); a.href = URL.createObjectURL(blob); a.download = "garble-marks.jsonl";
  document.body.appendChild(a); a.click();
  setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
});

// ---- keyboard ----
document.addEventListener("keydown", function (ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  var t = ev.target, tag = t && t.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable) || (tag === "INPUT" && !/^(checkbox|range|radio|button)$/.test(t.type))) return;
  var row = t && t.closest ? t.closest(".qrow") : null;
  var base = row ? +row.getAttribute("data-q") : cur;
  var k = ev.key;
  if (k === "j" || k === "n") { focusRow(base < 0 ? 0 : Math.min(queue.length - 1, base + 1)); }
  else if (k === "k" || k === "p") { focusRow(base <= 0 ? 0 : base - 1); }
  else if ((k === "r" || k === "f") && base >= 0 && queue[base]) { cur = base; setMark(queue[base], k === "r" ? "reviewed" : "false_alarm"); if (!hideMarked) focusRow(base, true); }
  else if ((k === "o" || (k === "Enter" && row && t === row)) && base >= 0 && queue[base]) { showInDoc(queue[base], true); }
  else return;
  ev.preventDefault();
});
$("docs").addEventListener("click", function (ev) {
  var sp = ev.target.closest ? ev.target.closest("span.unit") : null;
  if (!sp || !sp._u) return;
  var q = queue.indexOf(sp._u);
  if (q >= 0) focusRow(q, true);
});

function fitPanes() { document.documentElement.style.setProperty("--ctl", document.querySelector(".controls").offsetHeight + "px"); }
window.addEventListener("resize", fitPanes);
fitPanes();
buildDocShells();
rebuild(false);
pumpDocs();
document.documentElement.setAttribute("data-ready", "1");
})();
