(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  // "Show password" toggles the field between password and text (a field that was a password
  // must stay masked in a recording even while it is shown).
  $('show').addEventListener('click', () => {
    const f = $('password');
    const shown = f.type === 'text';
    f.type = shown ? 'password' : 'text';
    $('show').textContent = shown ? 'Show password' : 'Hide password';
  });
  // A field that only becomes a password field later, via script.
  $('secure-later').addEventListener('click', () => {
    $('later').setAttribute('type', 'password');
  });
  // A password field added after the page loaded.
  $('add-pin').addEventListener('click', () => {
    if ($('pin')) return;
    const label = document.createElement('label');
    label.textContent = 'PIN ';
    const input = document.createElement('input');
    input.type = 'password';
    input.id = 'pin';
    input.name = 'pin';
    label.appendChild(input);
    $('pin-host').appendChild(label);
  });
  // Some frameworks mirror the typed value into the value attribute; a recorder must not
  // record that attribute for a sensitive field either.
  $('password').addEventListener('input', (e) => {
    e.target.setAttribute('value', e.target.value);
  });
  $('login').addEventListener('submit', (e) => e.preventDefault());
})();
