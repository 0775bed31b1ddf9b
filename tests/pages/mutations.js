// DOM mutations of every kind, on a timer (#run) or one at a time (#step).
// Progress is kept in DOM-free globals: window.__mutationStep, window.__mutationsDone.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const list = $('list');
  const other = $('other');

  // Built before any recording starts, so the snapshot holds script-made nodes.
  for (let i = 1; i <= 5; i++) {
    const li = document.createElement('li');
    li.id = `item-${i}`;
    li.textContent = `item ${i}`;
    list.appendChild(li);
  }
  let made = 5;
  function li(text) {
    const e = document.createElement('li');
    e.id = `item-${++made}`;
    e.textContent = text || `item ${made}`;
    return e;
  }

  const steps = [
    function inserts() {
      list.appendChild(li());
      list.appendChild(li());
      list.insertBefore(li('first!'), list.firstChild);
      list.children[3].after(li('after the third'));
    },
    function removals() {
      list.children[1].remove();
      list.removeChild(list.lastElementChild);
      // the HTML comment before #box
      for (const n of Array.from(document.body.childNodes)) if (n.nodeType === Node.COMMENT_NODE) n.remove();
    },
    function moves() {
      list.insertBefore(list.lastElementChild, list.firstElementChild); // within the parent
      other.appendChild(list.children[2]); // to another parent
      other.appendChild(list.children[2]);
      other.insertBefore(other.lastElementChild, other.firstElementChild);
    },
    function attributes() {
      const box = $('box');
      box.setAttribute('data-state', 'on');
      box.setAttribute('aria-label', 'A "quoted" <label> & more');
      box.classList.add('on');
      box.classList.remove('plain');
      box.classList.toggle('hot');
      box.removeAttribute('title');
      box.style.borderColor = 'rgb(200, 0, 0)';
    },
    function texts() {
      $('status').firstChild.data = 'Running. ';
      $('status').querySelector('em').textContent = 'Something happened.';
      $('heading').textContent = 'DOM mutations \u2014 in progress \u{1F680}';
      document.title = 'Mutations (running)';
    },
    function innerHtmlReplace() {
      $('panel').innerHTML =
        '<h3 class="t">New panel</h3>\n  <p>Some <b>bold</b> and <i>italic</i> text &amp; an entity &lt;tag&gt;.</p>' +
        '<!-- inner comment --><p dir="rtl">\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627</p>';
    },
    function insertAdjacent() {
      $('panel').insertAdjacentHTML('beforeend', '<table><tbody><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></tbody></table>');
      $('panel').insertAdjacentHTML('afterbegin', '<p class="intro">intro</p>');
    },
    function fragment() {
      const f = document.createDocumentFragment();
      for (let i = 0; i < 3; i++) f.appendChild(li(`from a fragment ${i}`));
      f.appendChild(document.createComment('fragment comment'));
      f.appendChild(document.createTextNode('loose text in a list'));
      other.appendChild(f);
    },
    function addThenRemoveSameTask() {
      const tmp = li('short-lived');
      list.appendChild(tmp);
      tmp.setAttribute('class', 'x');
      tmp.remove();
      const kept = li('added then changed');
      list.appendChild(kept);
      kept.setAttribute('data-v', '1');
      kept.firstChild.data = 'added, then changed in the same task';
      kept.setAttribute('data-v', '2');
    },
    function replaceAndWrap() {
      const old = $('status').querySelector('em');
      const strong = document.createElement('strong');
      strong.textContent = 'Replaced.';
      old.replaceWith(strong);
      const wrapper = document.createElement('section');
      wrapper.className = 'wrapper';
      const box = $('box');
      box.parentNode.insertBefore(wrapper, box);
      wrapper.appendChild(box);
    },
    function svg() {
      const NS = 'http://www.w3.org/2000/svg';
      const svg = document.createElementNS(NS, 'svg');
      svg.setAttribute('width', '60');
      svg.setAttribute('height', '30');
      svg.setAttribute('viewBox', '0 0 60 30');
      const c = document.createElementNS(NS, 'circle');
      c.setAttribute('cx', '15');
      c.setAttribute('cy', '15');
      c.setAttribute('r', '10');
      const g = document.createElementNS(NS, 'linearGradient');
      g.setAttribute('id', 'grad');
      svg.append(g, c);
      $('svghost').appendChild(svg);
    },
    function svgChange() {
      const c = $('svghost').querySelector('circle');
      c.setAttribute('r', '14');
      c.setAttribute('fill', 'teal');
    },
    function comments() {
      const c = document.createComment('first');
      $('texts').appendChild(c);
      c.data = 'first, then edited';
    },
    function formAttributes() {
      $('untouched').setAttribute('value', 'value set by script');
      $('check').setAttribute('checked', '');
      const o = document.createElement('option');
      o.value = 'c';
      o.textContent = 'C';
      o.setAttribute('selected', '');
      $('sel').appendChild(o);
      $('ta').textContent = 'textarea default changed';
    },
    function splitAndNormalize() {
      const t = $('texts').firstChild;
      t.splitText(6); // "alpha " | "beta gamma"
      $('texts').appendChild(document.createTextNode(''));
      $('texts').appendChild(document.createTextNode(' delta'));
      const p = document.createElement('p');
      p.append('one', ' two', ' three');
      $('panel').appendChild(p);
      p.normalize();
    },
    function shuffleManyTimes() {
      const items = Array.from(other.children);
      for (let i = 0; i < 10; i++) {
        const e = items[(i * 7) % items.length];
        other.insertBefore(e, other.children[(i * 3) % other.children.length] || null);
      }
    },
    function nested() {
      const outer = document.createElement('div');
      outer.id = 'nested';
      document.body.appendChild(outer);
      const inner = document.createElement('div');
      inner.className = 'inner';
      outer.appendChild(inner);
      const deep = document.createElement('span');
      deep.textContent = 'deep';
      inner.appendChild(deep);
      const gone = document.createElement('span');
      inner.appendChild(gone);
      gone.remove();
      inner.appendChild(document.createTextNode(' & more'));
    },
    function stress() {
      const host = $('stress');
      for (let i = 0; i < 200; i++) {
        const s = document.createElement('span');
        s.dataset.i = String(i);
        host.appendChild(s);
      }
      for (let i = 0; i < 200; i += 3) host.querySelector(`[data-i="${i}"]`).remove();
    },
    function removeSubtree() {
      $('trash').removeChild($('doomed'));
      $('trash').textContent = 'emptied';
    },
    function specialText() {
      const p = document.createElement('p');
      p.id = 'special';
      p.textContent = 'angle <brackets> & "quotes" \'single\' </script> \u00e9\u0301 \u{1F468}\u200D\u{1F469}\u200D\u{1F467} tab\there\nnewline';
      p.setAttribute('data-multi', 'line one\nline two\t"tab"');
      document.body.appendChild(p);
    },
    function microtasks() {
      const p = document.createElement('p');
      p.id = 'micro';
      p.textContent = 'task';
      document.body.appendChild(p);
      Promise.resolve().then(() => {
        p.textContent = 'microtask 1';
        return Promise.resolve();
      }).then(() => {
        p.setAttribute('class', 'hot');
        p.appendChild(document.createElement('br'));
      });
    },
    function finish() {
      $('status').firstChild.data = 'Done. ';
      document.title = 'Mutations (done)';
      $('heading').textContent = 'DOM mutations \u2014 done';
    },
  ];

  let next = 0;
  window.__mutationStep = 0;
  window.__mutationsDone = false;
  function runStep() {
    const fn = steps[next % steps.length];
    next += 1;
    fn();
    window.__mutationStep = next;
    $('label').textContent = `step ${next}: ${fn.name}`;
    if (next >= steps.length) window.__mutationsDone = true;
  }
  $('step').addEventListener('click', runStep);
  $('run').addEventListener('click', () => {
    const timer = setInterval(() => {
      if (next >= steps.length) {
        clearInterval(timer);
        return;
      }
      runStep();
    }, 60);
  });
  window.__mutationSteps = steps.length;
})();
