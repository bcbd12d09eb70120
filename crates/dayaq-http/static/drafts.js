// Dayaq: what was typed in a form survives a session that ended before it was sent
// (issue #23 §2). No inline script (CSP); nothing leaves the browser.
//
// On submit, a form's fields are saved in this tab's sessionStorage (never a password, a code,
// a hidden or file field, never a form with a password field). The page that answers decides:
// - the session-ended page and the sign-in page (they carry [data-drafts-keep]) keep the draft
//   and point the sign-in at the form's page (`next`: the path only);
// - any other page means the server received the form (saved, or refused and shown again with
//   its values by the server): the draft is dropped, so a saved form is not filled in again.
// When a kept draft's form is shown again, its fields are filled in and the draft is dropped.
(function () {
  "use strict";
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (!store) { return; }
  var PREFIX = "dayaq-draft:";
  var MAX_AGE_MS = 12 * 3600 * 1000;
  var SECRET = /^(csrf|password|new_password|current_password|password_again|code|totp|next)$/i;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function skipped(el) {
    var t = (el.type || "").toLowerCase();
    return !el.name || el.disabled || SECRET.test(el.name) || t === "password" ||
      t === "hidden" || t === "file" || t === "submit" || t === "button" || t === "reset" ||
      el.autocomplete === "one-time-code";
  }

  // The forms that can keep a draft, each with its key: the page, the action, and the
  // position among forms of the same action on the page.
  function draftForms() {
    var seen = {};
    var out = [];
    each(document.forms, function (f) {
      if ((f.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
      if (f.hasAttribute("data-no-draft") || f.querySelector("input[type=password]")) { return; }
      var action = f.getAttribute("action") || "";
      var n = seen[action] || 0;
      seen[action] = n + 1;
      out.push({ form: f, key: PREFIX + location.pathname + "|" + action + "|" + n });
    });
    return out;
  }

  function fieldsOf(form) {
    var fields = [];
    each(form.elements, function (el) {
      if (skipped(el)) { return; }
      var t = (el.type || "").toLowerCase();
      if (t === "checkbox" || t === "radio") {
        fields.push({ n: el.name, c: el.checked });
      } else if (el.tagName === "SELECT" && el.multiple) {
        var chosen = [];
        each(el.options, function (o) { if (o.selected) { chosen.push(o.value); } });
        fields.push({ n: el.name, m: chosen });
      } else {
        fields.push({ n: el.name, v: el.value });
      }
    });
    return fields;
  }

  function fill(form, fields) {
    var i = 0;
    each(form.elements, function (el) {
      if (skipped(el)) { return; }
      var f = fields[i];
      i += 1;
      if (!f || f.n !== el.name) { return; }
      if (typeof f.c === "boolean") {
        el.checked = f.c;
      } else if (f.m) {
        each(el.options, function (o) { o.selected = f.m.indexOf(o.value) >= 0; });
      } else if (typeof f.v === "string") {
        el.value = f.v;
      }
    });
    // A form folded in a <details> is opened, so the restored values are seen.
    for (var p = form.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
  }

  function drafts() {
    var out = [];
    for (var i = 0; i < store.length; i += 1) {
      var k = store.key(i);
      if (k && k.indexOf(PREFIX) === 0) {
        var d = null;
        try { d = JSON.parse(store.getItem(k) || "null"); } catch (e) { d = null; }
        out.push({ key: k, d: d });
      }
    }
    return out;
  }

  document.addEventListener("submit", function (ev) {
    var forms = draftForms();
    for (var i = 0; i < forms.length; i += 1) {
      if (forms[i].form === ev.target) {
        var fields = fieldsOf(ev.target);
        if (!fields.length) { return; }
        try {
          store.setItem(forms[i].key, JSON.stringify({
            state: "sent", page: location.pathname, at: Date.now(), fields: fields
          }));
        } catch (e) { /* storage full or refused: the form is sent all the same */ }
        return;
      }
    }
  }, true);

  var keep = !!document.querySelector("[data-drafts-keep]");
  var now = Date.now();
  var latest = null;
  each(drafts(), function (x) {
    var d = x.d;
    if (!d || !d.at || now - d.at > MAX_AGE_MS) { store.removeItem(x.key); return; }
    if (keep) {
      if (d.state === "sent") { d.state = "kept"; store.setItem(x.key, JSON.stringify(d)); }
      if (d.state === "kept" && (!latest || d.at > latest.at)) { latest = d; }
    } else if (d.state === "sent") {
      store.removeItem(x.key);
    }
  });

  if (keep) {
    // Sign in, then back to the form's page (a path, as the server would accept it).
    if (latest && /^\/[^\/\\]/.test(latest.page)) {
      var next = document.getElementById("login-next");
      if (next && !next.value) { next.value = latest.page; }
      var again = document.getElementById("sign-in-again");
      if (again && again.getAttribute("href") === "/login") {
        again.setAttribute("href", "/login?next=" + encodeURIComponent(latest.page));
      }
    }
    return;
  }
  each(draftForms(), function (x) {
    var raw = store.getItem(x.key);
    if (!raw) { return; }
    var d = null;
    try { d = JSON.parse(raw); } catch (e) { d = null; }
    if (d && d.state === "kept" && d.fields) { fill(x.form, d.fields); }
    store.removeItem(x.key);
  });
})();
