// Passkeys / security keys (issue 22 §2). A form with data-passkey="create" or "get" carries
// the server's WebAuthn options in data-options; on submit this asks the browser
// (navigator.credentials), puts the answer in the hidden "credential" field as JSON and
// submits the form. The server keeps the ceremony's state; nothing else is sent.
(function () {
  'use strict';
  function fromB64url(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) { b64 += '='; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function ids(list) {
    return (list || []).map(function (c) {
      var o = Object.assign({}, c);
      o.id = fromB64url(c.id);
      return o;
    });
  }
  function createOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    pk.excludeCredentials = ids(pk.excludeCredentials);
    return { publicKey: pk };
  }
  function getOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = ids(pk.allowCredentials);
    return { publicKey: pk, mediation: o.mediation || undefined };
  }
  function created(c) {
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        attestationObject: toB64url(c.response.attestationObject),
        clientDataJSON: toB64url(c.response.clientDataJSON),
        transports: c.response.getTransports ? c.response.getTransports() : undefined
      },
      extensions: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
    };
  }
  function asserted(c) {
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        authenticatorData: toB64url(c.response.authenticatorData),
        clientDataJSON: toB64url(c.response.clientDataJSON),
        signature: toB64url(c.response.signature),
        userHandle: c.response.userHandle ? toB64url(c.response.userHandle) : null
      },
      extensions: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
    };
  }
  function show(form, key) {
    var p = document.getElementById('passkey-client-error');
    if (p) { p.textContent = form.getAttribute(key) || ''; p.hidden = false; }
  }
  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      var field = form.querySelector('input[name=credential]');
      if (!field || field.value) { return; }
      ev.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials) {
        show(form, 'data-unsupported');
        return;
      }
      var mode = form.getAttribute('data-passkey');
      var options = JSON.parse(form.getAttribute('data-options') || '{}');
      var button = form.querySelector('button[type=submit]');
      if (button) { button.disabled = true; }
      var p = mode === 'create'
        ? navigator.credentials.create(createOptions(options)).then(created)
        : navigator.credentials.get(getOptions(options)).then(asserted);
      p.then(function (answer) {
        field.value = JSON.stringify(answer);
        form.submit();
      }, function () {
        if (button) { button.disabled = false; }
        show(form, 'data-failed');
      });
    });
  });
})();
