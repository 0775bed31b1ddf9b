// Dynamic payloads, inserted after recording started (button #inject). Each one, if it ever runs,
// requests {{ORIGIN}}/pwned?<name> and pushes <name> onto window.__pwned (and parent/top).
(function () {
  'use strict';
  const ORIGIN = '{{ORIGIN}}';
  // The same self-contained snippet as in payloads.html (handlers cannot rely on page globals).
  const S = (n) =>
    `(function(n){try{fetch('${ORIGIN}/pwned?'+n,{mode:'no-cors'})}catch(e){}try{new Image().src='${ORIGIN}/pwned?img-'+n}catch(e){}[window,parent,top].forEach(function(w){try{w.__pwned=(w.__pwned||[]).concat(n)}catch(e){}})})('${n}')`;
  const $ = (id) => document.getElementById(id);
  window.__payloadsInjected = 0;

  function inject() {
    const host = $('dynamic');
    // Markup through innerHTML: scripts do not run, handlers do.
    host.insertAdjacentHTML(
      'beforeend',
      `<img id="dyn-img" src="x-dyn" onerror="${S('dyn-img-onerror')}" alt="">` +
        `<svg id="dyn-svg"><image href="${ORIGIN}/pwned?dyn-svg-image" width="5" height="5"/></svg>` +
        `<a id="dyn-link" href="javascript:${S('dyn-a-href')}">dynamic javascript: link</a>` +
        `<div id="dyn-style" style="background:url('${ORIGIN}/pwned?dyn-style-attr')">styled</div>` +
        `<object data="${ORIGIN}/pwned?dyn-object" type="image/gif" width="4" height="4"></object>`,
    );
    // Handlers and script URLs set as attribute changes on existing nodes.
    $('intro').setAttribute('onclick', S('dyn-attr-onclick'));
    $('intro').setAttribute('onmouseover', S('dyn-attr-onmouseover'));
    $('intro').setAttribute('style', `background-image:url('${ORIGIN}/pwned?dyn-intro-style')`);
    $('ping-link').setAttribute('href', `javascript:${S('dyn-href-change')}`);
    const img = $('img-onload');
    img.setAttribute('onerror', S('dyn-img-attr-onerror'));
    img.setAttribute('src', 'missing-dyn');
    // Executable elements created through the DOM.
    const script = document.createElement('script');
    script.textContent = S('dyn-inline-script');
    host.appendChild(script);
    const ext = document.createElement('script');
    ext.src = 'payload-dyn.js';
    host.appendChild(ext);
    const frame = document.createElement('iframe');
    frame.id = 'dyn-srcdoc';
    frame.setAttribute('srcdoc', `<script>${S('dyn-iframe-srcdoc')}<\/script>`);
    host.appendChild(frame);
    const frame2 = document.createElement('iframe');
    frame2.id = 'dyn-iframe-js';
    frame2.setAttribute('src', `javascript:void(${S('dyn-iframe-javascript')})`);
    host.appendChild(frame2);
    const style = document.createElement('style');
    style.textContent = `@import url("${ORIGIN}/pwned?dyn-css-import"); #dynamic { background: url("${ORIGIN}/pwned?dyn-css-bg"); }`;
    host.appendChild(style);
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = `${ORIGIN}/payload.css?dyn`;
    host.appendChild(link);
    const meta = document.createElement('meta');
    meta.setAttribute('http-equiv', 'refresh');
    meta.setAttribute('content', `600;url=${ORIGIN}/pwned?dyn-meta-refresh`);
    document.head.appendChild(meta);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('onload', S('dyn-svg-onload'));
    host.appendChild(svg);
    const text = document.createElement('p');
    text.id = 'dyn-text';
    text.textContent = `<img src=x onerror="${S('dyn-text')}"><script>${S('dyn-text-script')}</script>`;
    host.appendChild(text);
    const title = document.createElement('div');
    title.id = 'dyn-attr-markup';
    title.setAttribute('title', `"><img src=x onerror="${S('dyn-attr-markup')}">`);
    host.appendChild(title);
    window.__payloadsInjected += 1;
    $('injected').textContent = `injected ${window.__payloadsInjected}x`;
  }
  $('inject').addEventListener('click', inject);
})();
