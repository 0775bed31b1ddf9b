(function () {
  'use strict';
  const body = document.querySelector('#rows tbody');
  let n = 0;
  document.getElementById('add').addEventListener('click', () => {
    n += 1;
    const tr = document.createElement('tr');
    if (n % 2 === 0) tr.className = 'even';
    for (const text of [`row ${n}`, new Array(n + 1).join('*')]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
    document.getElementById('tick').textContent = String(n);
  });
  document.getElementById('f').addEventListener('submit', (e) => e.preventDefault());
})();
