// Behaviour of the demo page (a separate file so it runs under script-src 'self').
(function () {
  'use strict';
  const clock = document.getElementById('clock');
  const toggle = document.getElementById('clock-toggle');
  let timer = null;
  function tick() {
    const d = new Date();
    clock.textContent = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  }
  function startClock() {
    tick();
    timer = setInterval(tick, 1000);
    toggle.textContent = 'Pause clock';
    clock.classList.remove('paused');
  }
  function stopClock() {
    clearInterval(timer);
    timer = null;
    toggle.textContent = 'Resume clock';
    clock.classList.add('paused');
  }
  toggle.addEventListener('click', () => (timer ? stopClock() : startClock()));
  startClock();

  const items = document.getElementById('items');
  const count = document.getElementById('count');
  let n = 0;
  document.getElementById('add').addEventListener('click', () => {
    n += 1;
    const li = document.createElement('li');
    li.className = 'new';
    li.textContent = `Item number ${n}`;
    items.appendChild(li);
    // Only the newest item is highlighted.
    const prev = li.previousElementSibling;
    if (prev) prev.classList.remove('new');
    count.textContent = n === 1 ? '1 item' : `${n} items`;
  });

  const box = document.getElementById('scrollbox');
  for (let i = 1; i <= 30; i++) {
    const p = document.createElement('p');
    p.textContent = `Paragraph ${i} of the scrollable box. Scroll me!`;
    box.appendChild(p);
  }
  // A small bookkeeping hook for scripted demos (not used by the page itself).
  document.getElementById('profile').addEventListener('submit', (e) => e.preventDefault());
  window.__demo = { items: () => n, clockRunning: () => timer !== null };
})();
