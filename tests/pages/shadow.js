// Custom elements with shadow roots (open, closed, nested, slots, adopted sheets) and CSSOM-only
// styles, for tests/e2e/shadow.test.mjs. `window.__shadow` holds the steps the test drives.
(() => {
  const cardSheet = new CSSStyleSheet();
  cardSheet.replaceSync(':host { border: 2px solid #3949ab; padding: 4px; } h3 { margin: 0; color: #1a237e; }');

  class XCard extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      root.adoptedStyleSheets = [cardSheet];
      root.innerHTML = '<style>.count { font-weight: bold; } h3:hover { color: rgb(0, 128, 0); }</style><h3><slot name="title">no title</slot></h3>'
        + '<input id="inner" placeholder="inside the shadow root"> <span class="count">0</span><ul id="list"></ul><slot></slot>';
    }
  }
  class XInner extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: 'open' }).innerHTML = '<i part="inner">inner shadow text</i><slot></slot>';
    }
  }
  class XOuter extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: 'open' }).innerHTML = '<div class="outer">outer shadow <x-inner id="inner-host">slotted into the inner root</x-inner></div>';
    }
  }
  class XClosed extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: 'closed' });
      root.innerHTML = '<em>closed content</em> <span id="tick">0</span>';
      this._root = root; // kept for the test's steps (the page's own reference)
    }
  }
  class XLate extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: 'open' }).innerHTML = '<strong>defined after recording started</strong><slot></slot>';
    }
  }
  customElements.define('x-card', XCard);
  customElements.define('x-inner', XInner);
  customElements.define('x-outer', XOuter);
  customElements.define('x-closed', XClosed);

  const documentSheet = new CSSStyleSheet();
  documentSheet.replaceSync('.adopted-styled { background: #fce4ec; }');
  document.adoptedStyleSheets = [documentSheet];
  addEventListener('DOMContentLoaded', () => {
    const cssom = document.getElementById('cssom').sheet;
    cssom.insertRule('.cssom-styled { color: #1b5e20; }', 0);
  });

  window.__shadow = {
    // Content changes inside shadow roots recorded from the start.
    changeInside() {
      const root = document.getElementById('card').shadowRoot;
      root.querySelector('.count').textContent = '42';
      const list = root.getElementById('list');
      for (const t of ['one', 'two', 'three']) list.insertAdjacentHTML('beforeend', `<li>${t}</li>`);
      list.firstElementChild.remove();
      root.querySelector('h3').setAttribute('data-state', 'changed');
      document.getElementById('closed')._root.getElementById('tick').textContent = '7';
      document.getElementById('outer').shadowRoot.getElementById('inner-host').shadowRoot.querySelector('i').textContent = 'inner text changed';
    },
    // A host inserted later, with its shadow root already attached (and a nested one).
    insertHosts() {
      const more = document.getElementById('more');
      const card = document.createElement('x-card');
      card.innerHTML = '<span slot="title">inserted card</span>';
      more.appendChild(card);
      more.appendChild(document.createElement('x-outer'));
    },
    // A shadow root attached to an element recorded without one; the page then touches the host.
    attachLater() {
      const host = document.getElementById('div-host');
      host.attachShadow({ mode: 'open' }).innerHTML = '<p>late shadow root</p><slot></slot>';
      host.classList.add('has-shadow');
    },
    // An element recorded before its definition ran: upgrading attaches its root (no record).
    defineLate() {
      customElements.define('x-late', XLate);
    },
    // CSSOM changes after recording started.
    changeSheets() {
      const cssom = document.getElementById('cssom').sheet;
      cssom.insertRule('h1 { letter-spacing: 2px; }', cssom.cssRules.length);
      cardSheet.replaceSync(':host { border: 3px dashed #c62828; padding: 4px; } h3 { margin: 0; color: #b71c1c; }');
      const extra = new CSSStyleSheet();
      extra.replaceSync('p { font-style: italic; }');
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, extra];
      const style = document.getElementById('card').shadowRoot.querySelector('style');
      style.sheet.insertRule('h3 { text-decoration: underline; }', 0);
    },
  };
})();
