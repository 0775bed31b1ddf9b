// Builds ?n=N elements (default 30000) in nested lists, then on __startChurn() changes the page
// every millisecond for ?ms=T (default 2000): inserts, removals, moves, attribute and text
// changes at seeded random places. Sets __churnReady and, when done, __churnDone.
const params = new URLSearchParams(location.search);
const total = Number(params.get('n') || 30000);
const duration = Number(params.get('ms') || 2000);
let seed = 12345;
const random = (n) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const root = document.getElementById('root');
const elements = [root];
for (let i = 0; i < total; i++) {
  const parent = elements[elements.length > 50 ? elements.length - 1 - random(Math.min(elements.length, 400)) : random(elements.length)];
  const el = document.createElement(i % 4 === 0 ? 'ul' : 'li');
  el.dataset.i = String(i);
  if (i % 7 === 0) el.className = 'c' + (i % 5);
  el.appendChild(document.createTextNode(`item ${i}`));
  parent.appendChild(el);
  elements.push(el);
}

function live() {
  // Elements still in the document (the root excluded).
  for (let tries = 0; tries < 20; tries++) {
    const el = elements[1 + random(elements.length - 1)];
    if (el.isConnected) return el;
  }
  return root;
}

let round = 0;
function churnOnce() {
  round++;
  for (let k = 0; k < 5; k++) {
    const el = live();
    switch (random(6)) {
      case 0: {
        const fresh = document.createElement('li');
        fresh.textContent = `new ${round}.${k}`;
        fresh.className = 'hot';
        const kids = el.childNodes;
        el.insertBefore(fresh, kids.length ? kids[random(kids.length)] : null);
        elements.push(fresh);
        break;
      }
      case 1:
        if (el !== root) el.remove();
        break;
      case 2: {
        const target = live();
        if (el !== root && !el.contains(target)) {
          const kids = target.childNodes;
          target.insertBefore(el, kids.length ? kids[random(kids.length)] : null);
        }
        break;
      }
      case 3:
        el.setAttribute('data-round', String(round));
        break;
      case 4:
        if (el.firstChild && el.firstChild.nodeType === 3) el.firstChild.data = `changed ${round}`;
        break;
      default:
        el.classList.toggle('hot');
    }
  }
}

window.__startChurn = () => {
  const end = performance.now() + duration;
  const tick = () => {
    churnOnce();
    if (performance.now() < end) setTimeout(tick, 1);
    else window.__churnDone = true;
  };
  tick();
};
window.__churnReady = true;
