(function () {
  'use strict';
  let n = 0;
  document.getElementById('add').addEventListener('click', () => {
    const li = document.createElement('li');
    li.textContent = `line ${++n}`;
    document.getElementById('lines').appendChild(li);
  });
})();
