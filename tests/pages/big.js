// Builds N rows (default 20000, ?rows=N) with distinct text and attributes; #more adds 2000 more.
const tbody = document.querySelector('#rows tbody');
const wanted = Number(new URLSearchParams(location.search).get('rows') || 20000);
let n = 0;
function addRows(count) {
  const frag = document.createDocumentFragment();
  for (let i = 0; i < count; i++, n++) {
    const tr = document.createElement('tr');
    tr.dataset.row = String(n);
    tr.className = n % 2 ? 'odd' : 'even';
    tr.innerHTML = `<td>row ${n}</td><td title="cell ${n}">text ünïcödé ${n} — ${'x'.repeat(n % 17)}</td>`;
    frag.appendChild(tr);
  }
  tbody.appendChild(frag);
}
addRows(wanted);
document.getElementById('more').addEventListener('click', () => addRows(2000));
window.__bigReady = true;
