/* Apertura questionnaire page: live skip logic and background autosave.
 *
 * - Relevance: each element with data-relevant carries a JSON syntax tree of its XLSForm
 *   expression; a tiny evaluator (comparisons, and/or/not, selected, count-selected, if,
 *   arithmetic) shows or hides it while typing. The server re-checks on every save and its
 *   answer wins.
 * - Autosave: changed fields are POSTed as JSON to data-autosave after a short pause, with
 *   the CSRF token in a header. Unsent changes wait in localStorage, so a closed tab or a lost
 *   connection loses at most the field being typed; they are re-sent on the next load.
 * Without JavaScript the page works as a plain form (server-side paging).
 */
(function () {
  "use strict";
  var form = document.getElementById("questionnaire");
  if (!form) { return; }
  var autosaveUrl = form.getAttribute("data-autosave");
  var storageKey = "apertura:" + form.getAttribute("data-token-key");
  var statusEl = document.getElementById("autosave-status");
  var stored = {};
  try { stored = JSON.parse(document.getElementById("answers-data").textContent) || {}; } catch (e) { stored = {}; }
  var pending = {};
  var timer = null;
  var inFlight = false;
  var RETRY_MS = 10000;
  var DEBOUNCE_MS = 700;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function setCsrfToken(token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { meta.setAttribute("content", token); }
    var inputs = document.querySelectorAll('input[name="csrf_token"]');
    for (var i = 0; i < inputs.length; i++) { inputs[i].value = token; }
  }
  function say(text) { if (statusEl) { statusEl.textContent = text; } }
  var es = (document.documentElement.lang || "es").indexOf("en") !== 0;
  var T = {
    saving: es ? "Guardando…" : "Saving…",
    saved: es ? "Guardado" : "Saved",
    offline: es ? "Sin conexión: los cambios se guardarán al reconectar." : "Offline: changes will be saved when the connection returns.",
    refused: es ? "No se pudo guardar: " : "Could not save: "
  };

  /* ---------- values ---------- */
  function inputsFor(path) { return form.querySelectorAll('[name="' + path.replace(/"/g, '\\"') + '"]'); }
  function valueOf(path) {
    var els = inputsFor(path);
    if (!els.length) { return undefined; }
    var first = els[0];
    if (first.type === "checkbox") {
      var out = [];
      for (var i = 0; i < els.length; i++) { if (els[i].checked) { out.push(els[i].value); } }
      return out;
    }
    if (first.type === "radio") {
      for (var j = 0; j < els.length; j++) { if (els[j].checked) { return els[j].value; } }
      return "";
    }
    return first.value;
  }
  function setValue(path, value) {
    var els = inputsFor(path);
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.type === "checkbox") { el.checked = Array.isArray(value) && value.indexOf(el.value) >= 0; }
      else if (el.type === "radio") { el.checked = el.value === value; }
      else { el.value = value == null ? "" : value; }
    }
  }
  function storedValue(name, repeat, index) {
    if (repeat && stored[repeat] && stored[repeat][index] && name in stored[repeat][index]) {
      return stored[repeat][index][name];
    }
    return stored[name];
  }
  function lookup(name, ctxPath) {
    var m = /^([^\[]+)\[(\d+)\]\./.exec(ctxPath || "");
    if (m) {
      var sibling = m[1] + "[" + m[2] + "]." + name;
      var v = valueOf(sibling);
      if (v !== undefined) { return v; }
      var sv = storedValue(name, m[1], +m[2]);
      if (sv !== undefined) { return sv; }
    }
    var top = valueOf(name);
    if (top !== undefined) { return top; }
    var st = stored[name];
    return st === undefined || st === null ? "" : st;
  }

  /* ---------- expression evaluator (subset; throws on anything else) ---------- */
  function Unknown() {}
  function str(v) { return Array.isArray(v) ? v.join(" ") : (v === true ? "true" : v === false ? "false" : v == null ? "" : String(v)); }
  function num(v) {
    if (typeof v === "number") { return v; }
    if (typeof v === "boolean") { return v ? 1 : 0; }
    var s = str(v).trim();
    return s === "" ? NaN : Number(s);
  }
  function truthy(v) {
    if (typeof v === "boolean") { return v; }
    if (typeof v === "number") { return !isNaN(v) && v !== 0; }
    if (Array.isArray(v)) { return v.length > 0; }
    return str(v).length > 0;
  }
  function tokens(v) { return Array.isArray(v) ? v : str(v).split(/\s+/).filter(Boolean); }
  function numeric(a, b) { return typeof a === "number" || typeof b === "number"; }
  function evaluate(node, ctx) {
    switch (node.k) {
      case "lit": return node.v;
      case "ref": return lookup(node.n, ctx);
      case "cur": return valueOf(ctx);
      case "neg": return -num(evaluate(node.a, ctx));
      case "bin": return binary(node, ctx);
      case "call": return call(node, ctx);
      default: throw new Unknown();
    }
  }
  function binary(node, ctx) {
    var op = node.op;
    if (op === "and") { return truthy(evaluate(node.l, ctx)) && truthy(evaluate(node.r, ctx)); }
    if (op === "or") { return truthy(evaluate(node.l, ctx)) || truthy(evaluate(node.r, ctx)); }
    var a = evaluate(node.l, ctx), b = evaluate(node.r, ctx);
    switch (op) {
      case "=": case "!=":
        var eq = numeric(a, b) ? num(a) === num(b) : str(a) === str(b);
        return op === "=" ? eq : !eq;
      case "<": return num(a) < num(b);
      case "<=": return num(a) <= num(b);
      case ">": return num(a) > num(b);
      case ">=": return num(a) >= num(b);
      case "+": return num(a) + num(b);
      case "-": return num(a) - num(b);
      case "*": return num(a) * num(b);
      case "div": return num(a) / num(b);
      case "mod": return num(a) % num(b);
      default: throw new Unknown();
    }
  }
  function call(node, ctx) {
    var args = node.a;
    function arg(i) { return evaluate(args[i], ctx); }
    switch (node.f) {
      case "not": return !truthy(arg(0));
      case "selected": return tokens(arg(0)).indexOf(str(arg(1))) >= 0;
      case "count-selected": return tokens(arg(0)).length;
      case "if": return truthy(arg(0)) ? arg(1) : arg(2);
      case "true": return true;
      case "false": return false;
      case "boolean": return truthy(arg(0));
      case "string-length": return str(arg(0)).length;
      case "coalesce": var c = arg(0); return str(c) !== "" ? c : arg(1);
      case "number": return num(arg(0));
      case "int": var n = num(arg(0)); return n < 0 ? Math.ceil(n) : Math.floor(n);
      case "string": return str(arg(0));
      case "concat": return args.map(function (x) { return str(evaluate(x, ctx)); }).join("");
      default: throw new Unknown();
    }
  }

  /* ---------- relevance ---------- */
  function applyRelevance() {
    var els = form.querySelectorAll("[data-relevant]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var tree;
      try { tree = JSON.parse(el.getAttribute("data-relevant")); } catch (e) { continue; }
      if (tree === null || tree === true) { continue; }
      try {
        var ctx = el.getAttribute("data-path") || firstPathInside(el);
        el.hidden = !truthy(evaluate(tree, ctx));
      } catch (e) {
        if (!(e instanceof Unknown)) { throw e; }
        /* unsupported expression: keep what the server decided */
      }
    }
    updateShown();
  }
  function firstPathInside(el) {
    var inner = el.querySelector("[data-path]");
    return inner ? inner.getAttribute("data-path") : "";
  }
  function visible(el) {
    for (var node = el; node && node !== form; node = node.parentElement) {
      if (node.hidden) { return false; }
    }
    return true;
  }
  function updateShown() {
    var shown = form.querySelector('input[name="_shown"]');
    if (!shown) { return; }
    var paths = [];
    var fields = form.querySelectorAll(".field[data-path]");
    for (var i = 0; i < fields.length; i++) {
      if (visible(fields[i])) { paths.push(fields[i].getAttribute("data-path")); }
    }
    shown.value = paths.join(" ");
  }
  function applyServerRelevance(relevant) {
    var fields = form.querySelectorAll("[data-path]");
    for (var i = 0; i < fields.length; i++) {
      var path = fields[i].getAttribute("data-path");
      if (Object.prototype.hasOwnProperty.call(relevant, path)) { fields[i].hidden = !relevant[path]; }
    }
    updateShown();
  }
  function showErrors(errors) {
    var slots = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < slots.length; i++) {
      var path = slots[i].getAttribute("data-error-for");
      var wrap = slots[i].closest(".field");
      var messages = errors[path];
      if (messages && messages.length) {
        slots[i].textContent = messages.join(" ");
        slots[i].hidden = false;
        if (wrap) { wrap.classList.add("has-error"); }
      } else if (!(path in pending)) {
        slots[i].textContent = "";
        slots[i].hidden = true;
        if (wrap) { wrap.classList.remove("has-error"); }
      }
    }
  }

  /* ---------- autosave ---------- */
  function remember() {
    try { localStorage.setItem(storageKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }
  function pathOf(el) { return el && el.name && el.name !== "csrf_token" && el.name !== "_shown" && el.name !== "action" ? el.name : null; }
  function changed(event) {
    var path = pathOf(event.target);
    if (!path) { return; }
    pending[path] = valueOf(path);
    remember();
    applyRelevance();
    if (!autosaveUrl) { return; }
    clearTimeout(timer);
    timer = setTimeout(flush, DEBOUNCE_MS);
  }
  function flush(keepalive, retried) {
    if (!autosaveUrl || inFlight) { return; }
    var batch = pending;
    if (!Object.keys(batch).length) { return; }
    pending = {};
    inFlight = true;
    say(T.saving);
    fetch(autosaveUrl, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify({ answers: batch })
    }).then(function (res) {
      return res.json().then(function (data) { return { status: res.status, data: data }; });
    }).then(function (r) {
      inFlight = false;
      if (r.status === 400 && r.data && r.data.error === "csrf" && r.data.csrf_token && !retried) {
        setCsrfToken(r.data.csrf_token);
        merge(batch);
        flush(keepalive, true);
        return;
      }
      if (r.status !== 200) {
        say(T.refused + ((r.data && r.data.message) || r.status));
        if (r.status >= 500 || r.status === 401) { merge(batch); }
        remember();
        return;
      }
      remember();
      showErrors(r.data.errors || {});
      if (r.data.relevant) { applyServerRelevance(r.data.relevant); }
      say(T.saved + " " + new Date().toLocaleTimeString());
      if (Object.keys(pending).length) { timer = setTimeout(flush, DEBOUNCE_MS); }
    }).catch(function () {
      inFlight = false;
      merge(batch);
      remember();
      say(T.offline);
      setTimeout(flush, RETRY_MS);
    });
  }
  function merge(batch) {
    for (var k in batch) { if (!(k in pending)) { pending[k] = batch[k]; } }
  }
  function restore() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { saved = null; }
    if (!saved) { return; }
    for (var path in saved) {
      if (!inputsFor(path).length) { continue; }
      if (JSON.stringify(valueOf(path)) === JSON.stringify(saved[path])) { continue; }
      setValue(path, saved[path]);
      pending[path] = saved[path];
    }
    remember();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    /* the form carries every value; unsent changes stay in localStorage until the next page loads */
    clearTimeout(timer);
    autosaveUrl = "";
  });
  window.addEventListener("online", function () { flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(true); }
  });
  window.addEventListener("pagehide", function () { flush(true); });

  restore();
  applyRelevance();
  if (Object.keys(pending).length) { flush(); }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
