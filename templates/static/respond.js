/* Apertura questionnaire page: live skip logic and background autosave.
 *
 * - Relevance: each element with data-relevant carries a JSON syntax tree of its XLSForm
 *   expression; a tiny evaluator (comparisons, and/or/not, selected, count-selected, if,
 *   arithmetic) shows or hides it while typing. The server re-checks on every save and its
 *   answer wins.
 * - Autosave: changed fields are POSTed as JSON to data-autosave after a short pause, with
 *   the CSRF token in a header. Unsent changes wait in localStorage, so a closed tab or a lost
 *   connection loses at most the field being typed; they are re-sent on the next load.
 * - Order and conflicts: each save carries this tab's id and a sequence number (the server
 *   ignores an older save of the tab than one it already stored), and the values the tab was
 *   shown (`base`): a field another tab changed since is never overwritten; it comes back as a
 *   conflict and is shown beside the field with both choices. Submitting the page waits for an
 *   autosave in flight. A busy server (503) or a lost connection is retried with back-off.
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
  var inFlight = null; /* the promise of the autosave in flight */
  var DEBOUNCE_MS = 700;
  var RETRY_MIN_MS = 2000, RETRY_MAX_MS = 60000, retryMs = RETRY_MIN_MS;
  var submitting = false;
  var tab = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
  var seq = 0;
  var page = parseInt(form.getAttribute("data-page"), 10);
  function hidden(name) { return form.querySelector('input[type="hidden"][name="' + name + '"]'); }
  var base = {};
  try { base = JSON.parse(hidden("_base").value) || {}; } catch (e) { base = {}; }
  var version = parseInt((hidden("_version") || {}).value, 10) || 0;
  function canonical(v) { return Array.isArray(v) ? v.join(" ") : (v == null ? "" : String(v)); }

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
    busy: es ? "El servidor está ocupado; sus cambios esperan en este dispositivo. Reintento en " : "The server is busy; your changes wait on this device. Retrying in ",
    seconds: es ? " s." : " s.",
    refused: es ? "No se pudo guardar: " : "Could not save: ",
    conflict: es ? "Otra pestaña u otra persona guardó aquí «%s» mientras usted escribía; su valor no se guardó." : "Another tab or person saved «%s» here while you were typing; your value was not saved.",
    keepMine: es ? "Guardar el mío" : "Keep mine",
    useTheirs: es ? "Usar el guardado" : "Use the saved one",
    empty: es ? "(vacío)" : "(empty)"
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
    /* thousands grouped as people type them (1,250 or 1 250), as the server reads them */
    if (/^[+-]?\d{1,3}([ ,\u00a0\u202f]\d{3})+(\.\d+)?$/.test(s)) { s = s.replace(/[ ,\u00a0\u202f]/g, ""); }
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
  function pathOf(el) { return el && el.name && el.type !== "file" && el.name !== "csrf_token" && el.name !== "_shown" && el.name !== "action" ? el.name : null; }
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
    if (!autosaveUrl || inFlight) { return inFlight; }
    var batch = {};
    for (var p in pending) { if (inputsFor(p).length) { batch[p] = pending[p]; delete pending[p]; } }
    if (!Object.keys(batch).length) { return null; }
    var sentBase = {};
    for (var q in batch) { if (Object.prototype.hasOwnProperty.call(base, q)) { sentBase[q] = base[q]; } }
    seq += 1;
    say(T.saving);
    inFlight = fetch(autosaveUrl, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify({ answers: batch, base: sentBase, version: version, page: page, tab: tab, seq: seq })
    }).then(function (res) {
      return res.json().then(function (data) { return { status: res.status, data: data, retryAfter: res.headers.get("Retry-After") }; },
                             function () { return { status: res.status, data: null, retryAfter: res.headers.get("Retry-After") }; });
    }).then(function (r) {
      inFlight = null;
      if (r.status === 400 && r.data && r.data.error === "csrf" && r.data.csrf_token && !retried) {
        setCsrfToken(r.data.csrf_token);
        merge(batch);
        return flush(keepalive, true);
      }
      if (r.status >= 500 || r.status === 401) {
        merge(batch);
        remember();
        var wait = Math.max(retryMs, (parseInt(r.retryAfter, 10) || 0) * 1000);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        say(T.busy + Math.round(wait / 1000) + T.seconds);
        clearTimeout(timer);
        timer = setTimeout(flush, wait);
        return;
      }
      if (r.status !== 200) {
        say(T.refused + ((r.data && r.data.message) || r.status));
        remember();
        return;
      }
      retryMs = RETRY_MIN_MS;
      var conflicts = r.data.conflicts || {};
      for (var path in batch) {
        if (!Object.prototype.hasOwnProperty.call(conflicts, path)) { base[path] = canonical(batch[path]); }
      }
      if (typeof r.data.version === "number") { version = r.data.version; }
      remember();
      showErrors(r.data.errors || {});
      showConflicts(conflicts);
      if (r.data.relevant) { applyServerRelevance(r.data.relevant); }
      if (r.data.progress) { showProgress(r.data.progress); }
      say(T.saved + " " + new Date().toLocaleTimeString());
      if (sendable()) { timer = setTimeout(flush, DEBOUNCE_MS); }
    }).catch(function () {
      inFlight = null;
      merge(batch);
      remember();
      say(T.offline);
      clearTimeout(timer);
      timer = setTimeout(flush, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    });
    return inFlight;
  }
  function showProgress(p) {
    var bar = document.getElementById("progress");
    var label = document.querySelector('label[for="progress"]');
    if (!bar || !p.total) { return; }
    bar.max = p.total;
    bar.value = p.answered;
    bar.textContent = Math.floor(100 * p.answered / p.total) + " %";
    if (label) { label.textContent = p.label; }
  }
  function sendable() {
    for (var p in pending) { if (inputsFor(p).length) { return true; } }
    return false;
  }
  function showConflicts(conflicts) {
    for (var path in conflicts) {
      if (!Object.prototype.hasOwnProperty.call(conflicts, path)) { continue; }
      var theirs = conflicts[path];
      base[path] = theirs; /* what is stored now: keeping mine is then a deliberate overwrite */
      var slot = form.querySelector('[data-error-for="' + path.replace(/"/g, '\\"') + '"]');
      if (!slot) { continue; }
      var wrap = slot.closest(".field");
      if (wrap) { wrap.classList.add("has-error", "conflict"); }
      slot.hidden = false;
      slot.textContent = T.conflict.replace("%s", theirs === "" ? T.empty : theirs) + " ";
      var mine = document.createElement("button");
      mine.type = "button"; mine.className = "link"; mine.textContent = T.keepMine;
      var other = document.createElement("button");
      other.type = "button"; other.className = "link"; other.textContent = T.useTheirs;
      (function (p, value, w, s) {
        mine.addEventListener("click", function () {
          pending[p] = valueOf(p); remember(); clearConflict(w, s); flush();
        });
        other.addEventListener("click", function () {
          setValue(p, Array.isArray(valueOf(p)) ? value.split(" ").filter(Boolean) : value);
          delete pending[p]; remember(); clearConflict(w, s); applyRelevance();
        });
      })(path, theirs, wrap, slot);
      slot.appendChild(mine);
      slot.appendChild(document.createTextNode(" · "));
      slot.appendChild(other);
    }
  }
  function clearConflict(wrap, slot) {
    if (wrap) { wrap.classList.remove("has-error", "conflict"); }
    slot.textContent = ""; slot.hidden = true;
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
  form.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-suggest]") : null;
    if (!button) { return; }
    var box = button.closest("[data-suggest-for]");
    var path = box.getAttribute("data-suggest-for");
    setValue(path, button.getAttribute("data-suggest"));
    box.hidden = true;
    pending[path] = valueOf(path); remember();
    clearTimeout(timer); timer = setTimeout(flush, DEBOUNCE_MS);
  });
  form.addEventListener("change", function (event) {
    var el = event.target;
    if (el.type !== "url") { return; }
    var box = form.querySelector('[data-suggest-for="' + el.name.replace(/"/g, '\\"') + '"]');
    if (!box) { return; }
    var v = el.value.trim();
    var host = v.split("/")[0];
    if (v && v.indexOf("://") < 0 && v.indexOf(" ") < 0 && host.indexOf(".") > 0) {
      var suggestion = "https://" + v.replace(/^\/+/, "");
      var button = box.querySelector("[data-suggest]");
      button.setAttribute("data-suggest", suggestion);
      button.textContent = suggestion;
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  });
  /* An evidence file is sent as soon as it is chosen (with the page, so nothing typed is lost);
     one over the size limit is refused here, before it travels, naming the question. */
  form.addEventListener("change", function (event) {
    var el = event.target;
    if (el.type !== "file" || !el.files || !el.files.length) { return; }
    var limit = parseInt(el.getAttribute("data-max-bytes"), 10) || 0;
    var slot = form.querySelector('[data-error-for="' + (el.getAttribute("data-attach") || "").replace(/"/g, '\\"') + '"]');
    if (limit && el.files[0].size > limit) {
      var label = (el.closest(".field") || form).querySelector("label, legend");
      var question = label ? ((label.firstChild && label.firstChild.nodeType === 3) ? label.firstChild.textContent : label.textContent).trim() : "";
      var text = (es ? "No se adjuntó «" : "«") + el.files[0].name + (es ? "»" : "» was not attached") +
        (question ? (es ? " a «" : " to «") + question + "»" : "") +
        (es ? ": pasa del límite de " : ": it is over the limit of ") +
        (limit / 1048576).toFixed(1).replace(/\.0$/, "") + " MB.";
      el.value = "";
      if (slot) { slot.textContent = text; slot.hidden = false; } else { say(text); }
      return;
    }
    var button = el.parentNode.querySelector('button[name="action"]');
    if (button && form.requestSubmit) { form.requestSubmit(button); }
  });
  function prepareSubmit() {
    /* the page save carries this tab's mark (after any autosave) and what the tab was shown */
    seq += 1;
    hidden("_tab").value = tab;
    hidden("_seq").value = String(seq);
    hidden("_base").value = JSON.stringify(base);
    hidden("_version").value = String(version);
    /* the form carries every value of this page: its pending copies are no longer needed */
    for (var p in pending) { if (inputsFor(p).length) { delete pending[p]; } }
    remember();
  }
  form.addEventListener("submit", function (event) {
    clearTimeout(timer);
    if (submitting) { return; }
    var submitter = event.submitter || null;
    if (inFlight) {
      /* an autosave in flight must land before the page save, never after it */
      event.preventDefault();
      var finish = function () {
        submitting = true;
        autosaveUrl = "";
        prepareSubmit();
        if (submitter && form.requestSubmit) { form.requestSubmit(submitter); }
        else {
          if (submitter && submitter.name) {
            var carry = document.createElement("input");
            carry.type = "hidden"; carry.name = submitter.name; carry.value = submitter.value;
            form.appendChild(carry);
          }
          form.submit();
        }
      };
      inFlight.then(finish, finish);
      return;
    }
    submitting = true;
    autosaveUrl = "";
    prepareSubmit();
  });
  window.addEventListener("online", function () { retryMs = RETRY_MIN_MS; flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(true); }
  });
  window.addEventListener("pagehide", function () { flush(true); });

  restore();
  applyRelevance();
  if (sendable()) { flush(); }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
