// Navigates to page C by script, after showing a short countdown.
(function () {
  'use strict';
  const el = document.getElementById('countdown');
  let left = 3;
  const timer = setInterval(() => {
    left -= 1;
    el.textContent = `Leaving in ${left}\u2026`;
    if (left <= 0) {
      clearInterval(timer);
      location.assign('nav-c.html' + location.search);
    }
  }, 300);
})();
