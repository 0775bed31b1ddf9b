// Turns a Document into comparable text, so that a live page and its replay can be compared.
//
// `normalizeDocument` runs inside the browser (pass it to page.evaluate / handle.evaluate): it
// must stay self-contained (no references outside its own body).
//
// What it keeps, one line per node, indented by depth:
//   #document (compatMode)
//   <!doctype name "publicId" "systemId">
//   <tag a="1" b="2"> {value="typed"} {checked=true} {masked:filled} {scroll=0,120}
//   #text "…"              (exact data, JSON-escaped; nothing collapsed)
//   #comment "…"
//   stylesheet("href") media=… title=… id=…   (a live <link rel=stylesheet> or a replayed
//                                               <style data-tabreel-href>; children ignored)
// What it leaves out, because the replay changes it on purpose (see the automation contract):
//   - on* attributes, srcdoc, data-tabreel-* attributes;
//   - <script>: type and src attributes, and its children;
//   - iframe/frame/object/embed src and data; <meta http-equiv>; javascript:/vbscript:/HTML data:
//     URLs in URL attributes;
//   - the `value` attribute of masked fields;
//   - the content of iframes (out of scope here).
// What it compares in one spelling, because the replay re-spells recorded CSS on purpose (the text
// of <style> elements, and with `cssom` their rules): `url(…)` and `@import "…"` references as
// absolute `url("…")`/`@import "…"` (resolved against `opts.baseUrl`, else the document's base URL:
// the replay resolves them against the recorded page), and the attribute selectors the replay
// puts in place of user-action pseudo-classes (`[data-tabreel-hover]` and the `focus`,
// `focus-visible`, `focus-within`, `active` ones) as those pseudo-classes. On the replay side,
// with `cssom`, the rules the replay adds (src/shell/frame_css.rs: REPLAY_FONT_RESET, which
// cancels Chrome's extension-page font, and the `tabreel-ua` layer, the browser's focus ring on the
// recorded focus), in the first sheet or an adopted sheet of their own, are left out.
// URLs the replay points at stored copies of the page's assets are compared as recorded: an
// attribute it re-spelled keeps its recorded value in `data-tabreel-recorded-<name>` (used on the
// replay side in place of the value), and `blob:` URLs in CSS are mapped back with
// `opts.assetUrls` (the replay page's `window.tabreelAssetUrls`: blob URL → recorded URL).
// Form state is read from properties (input value/checked, textarea value, select value). Masked
// fields (type=password, sensitive autocomplete tokens, or matching `opts.maskSelector`) show as
// {masked:filled}/{masked:empty}; on the replay side (`opts.role === 'replay'`) a filled masked
// field must show exactly the placeholder, otherwise it is printed as {masked:UNEXPECTED "…"}.
//
// Options: { role: 'live'|'replay', maskSelector: 'css selector', scroll: true (element scroll
// offsets, rounded), skipSelector: 'css selector' (subtrees to leave out entirely, both sides) }
// Extensions used by the fidelity suite (tests/fidelity/), all off by default:
//   shadow: true    open shadow roots, as `#shadow-root (open)` children of their host;
//   frames: true    the documents of same-origin frames, as `#frame-document` children (a
//                   cross-origin frame shows `#frame-document (unreadable)`);
//   docScroll: true the document's scroll offset on the `#document` line;
//   cssom: true     the effective rules of every <style> element as `{css=<hash> rules=N}` in
//                   place of its text (rules added with insertRule count, the text does not), and
//                   adoptedStyleSheets of documents and shadow roots as `#adopted css=<hash>`;
//   canvas: true    a hash of each <canvas>'s pixels (`{canvas=<hash>|blank|tainted}`);
//   baseUrl: 'url'  URL attributes (href, src, xlink:href, action, poster) resolved against this
//                   base (the live page's URL on every side), so that relative and absolute
//                   spellings of one URL compare equal (rrweb's replay makes them absolute);
//   noscriptAsScript: true  <noscript> printed as <script> (rrweb's replay renames scripts).

export function normalizeDocument(doc, opts) {
  opts = opts || {};
  const PLACEHOLDER = '\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022';
  const SENSITIVE_AUTOCOMPLETE = ['current-password', 'new-password', 'one-time-code', 'cc-number', 'cc-csc'];
  const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'ping', 'codebase', 'cite'];
  const HTML_NS = 'http://www.w3.org/1999/xhtml';
  const REPLAY_FONT_RESET = 'body { font-family: revert; font-size: revert; }';
  const isReplayRule = (text) => text === REPLAY_FONT_RESET || /^@layer tabreel-ua\b/.test(text);
  const NS_PREFIX = { 'http://www.w3.org/2000/svg': 'svg:', 'http://www.w3.org/1998/Math/MathML': 'math:' };
  const out = [];

  function q(s) {
    return JSON.stringify(String(s));
  }
  function hash(text) {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0).toString(16).padStart(8, '0');
  }
  function cssBase(node) {
    return opts.baseUrl || (node && (node.ownerDocument || node).baseURI) || undefined;
  }
  function canonicalCss(text, base) {
    const abs = (v) => {
      if (v === '' || v.startsWith('#') || v.includes('\\')) return null;
      try {
        return new URL(v, base).href;
      } catch (e) {
        return null;
      }
    };
    let t = String(text).replace(/\[data-tabreel-(hover|active|focus|focus-visible|focus-within)\]/g, ':$1');
    if (opts.assetUrls) t = t.replace(/blob:[^"')\s#]+/g, (m) => opts.assetUrls[m] ?? m);
    t = t.replace(/url\(\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^)"'\s]*))\s*\)/gi, (m, dq, sq, bare) => {
      const a = abs(dq ?? sq ?? bare);
      return a === null ? m : `url(${JSON.stringify(a)})`;
    });
    t = t.replace(/@import\s+(?:"([^"\n]*)"|'([^'\n]*)')/gi, (m, dq, sq) => {
      const a = abs(dq ?? sq);
      return a === null ? m : `@import ${JSON.stringify(a)}`;
    });
    return t;
  }
  function rulesOf(sheet, base) {
    try {
      let rules = Array.from(sheet.cssRules, (r) => canonicalCss(r.cssText, base));
      if (opts.role === 'replay') rules = rules.filter((r) => !isReplayRule(r));
      return rules;
    } catch (e) {
      return null;
    }
  }
  function adoptedLine(root, pad) {
    let sheets = root.adoptedStyleSheets;
    if (!opts.cssom || !sheets || !sheets.length) return;
    const replayOwn = (sh) => {
      try {
        return sh.cssRules.length > 0 && Array.from(sh.cssRules).every((r) => isReplayRule(r.cssText));
      } catch (e) {
        return false;
      }
    };
    sheets = Array.from(sheets).filter((sh) => !(opts.role === 'replay' && replayOwn(sh)));
    if (!sheets.length) return;
    const rules = [];
    for (const sh of sheets) rules.push(...(rulesOf(sh, cssBase(root)) || ['(unreadable)']));
    out.push(`${pad}#adopted sheets=${sheets.length} rules=${rules.length} css=${hash(rules.join('\n'))}`);
  }
  function canvasState(el) {
    try {
      if (!el.width || !el.height) return '{canvas=empty}';
      const url = el.toDataURL('image/png');
      const blank = el.ownerDocument.createElement('canvas');
      blank.width = el.width;
      blank.height = el.height;
      return url === blank.toDataURL('image/png') ? '{canvas=blank}' : `{canvas=${hash(url)}}`;
    } catch (e) {
      return '{canvas=tainted}';
    }
  }
  function isScriptUrl(v) {
    let s = String(v).replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '').slice(0, 32).toLowerCase();
    return (
      s.startsWith('javascript:') ||
      s.startsWith('vbscript:') ||
      s.startsWith('data:text/html') ||
      s.startsWith('data:image/svg') ||
      s.startsWith('data:application/xhtml')
    );
  }
  function tagOf(el) {
    const ns = el.namespaceURI;
    if (!ns || ns === HTML_NS) {
      const t = el.localName.toLowerCase();
      return opts.noscriptAsScript && t === 'noscript' ? 'script' : t;
    }
    return (NS_PREFIX[ns] || `{${ns}}`) + el.localName;
  }
  function matches(el, sel) {
    if (!sel) return false;
    try {
      return el.matches(sel);
    } catch (e) {
      return false;
    }
  }
  function isFormField(el) {
    const t = el.localName;
    return (t === 'input' || t === 'textarea') && (!el.namespaceURI || el.namespaceURI === HTML_NS);
  }
  function isMasked(el) {
    if (!isFormField(el)) return false;
    if (matches(el, opts.maskSelector)) return true;
    const type = (el.getAttribute('type') || '').trim().toLowerCase();
    if (el.localName === 'input' && type === 'password') return true;
    const ac = (el.getAttribute('autocomplete') || '').toLowerCase().split(/\s+/);
    return ac.some((tok) => SENSITIVE_AUTOCOMPLETE.includes(tok));
  }
  function isStylesheetLink(el) {
    if (tagOf(el) !== 'link') return false;
    const rel = (el.getAttribute('rel') || '').toLowerCase().split(/\s+/);
    return rel.includes('stylesheet');
  }
  function isReplacedStylesheet(el) {
    if (tagOf(el) !== 'style') return false;
    if (el.hasAttribute('data-tabreel-href')) return true;
    // rrweb's replay turns an inlined <link rel=stylesheet href> into <style rel href>.
    const rel = (el.getAttribute('rel') || '').toLowerCase().split(/\s+/);
    return rel.includes('stylesheet') && el.hasAttribute('href');
  }
  function absolute(v) {
    try {
      return new URL(v, opts.baseUrl).href;
    } catch (e) {
      return v;
    }
  }
  function keptAttrs(el, tag, masked) {
    const list = [];
    for (const a of Array.from(el.attributes)) {
      const name = a.name;
      const lname = name.toLowerCase();
      if (lname.startsWith('on')) continue;
      if (lname === 'srcdoc') continue;
      if (lname.startsWith('data-tabreel-')) continue;
      if (tag === 'script' || tag === 'svg:script') {
        if (lname === 'type' || lname === 'src') continue;
      }
      if (tag === 'meta' && lname === 'http-equiv') continue;
      if ((tag === 'iframe' || tag === 'frame' || tag === 'object' || tag === 'embed') && (lname === 'src' || lname === 'data')) continue;
      if (URL_ATTRS.includes(lname) && isScriptUrl(a.value)) continue;
      if (masked && lname === 'value') continue;
      let value = a.value;
      if (opts.role === 'replay' && el.hasAttribute('data-tabreel-recorded-' + lname)) value = el.getAttribute('data-tabreel-recorded-' + lname);
      if (opts.baseUrl && (lname === 'href' || lname === 'src' || lname === 'xlink:href' || lname === 'action' || lname === 'poster')) {
        list.push([name, absolute(value)]);
        continue;
      }
      list.push([name, value]);
    }
    list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    return list;
  }
  function formState(el, tag, masked) {
    const parts = [];
    if (masked) {
      const v = el.value == null ? '' : String(el.value);
      if (v === '') parts.push('{masked:empty}');
      else if (opts.role === 'replay' && v !== PLACEHOLDER) parts.push(`{masked:UNEXPECTED ${q(v)}}`);
      else parts.push('{masked:filled}');
      return parts;
    }
    if (tag === 'input') {
      const type = (el.type || '').toLowerCase();
      if (type === 'checkbox' || type === 'radio') parts.push(`{checked=${!!el.checked}}`);
      else if (type !== 'file' && type !== 'image' && type !== 'submit' && type !== 'reset' && type !== 'button') parts.push(`{value=${q(el.value)}}`);
    } else if (tag === 'textarea') {
      parts.push(`{value=${q(el.value)}}`);
    } else if (tag === 'select') {
      const selected = Array.from(el.options || []).filter((o) => o.selected).map((o) => o.value);
      parts.push(`{selected=${q(selected.join('|'))}}`);
    }
    return parts;
  }
  function walk(node, depth) {
    const pad = '  '.repeat(depth);
    switch (node.nodeType) {
      case 9: {
        // document
        let scroll = '';
        if (opts.docScroll && node.defaultView) {
          const w = node.defaultView;
          if (w.scrollX || w.scrollY) scroll = ` {scroll=${Math.round(w.scrollX)},${Math.round(w.scrollY)}}`;
        }
        out.push(`${pad}#document (${node.compatMode})${scroll}`);
        adoptedLine(node, pad + '  ');
        for (const c of Array.from(node.childNodes)) walk(c, depth + 1);
        return;
      }
      case 10: // doctype
        out.push(`${pad}<!doctype ${node.name} ${q(node.publicId)} ${q(node.systemId)}>`);
        return;
      case 3: // text
      case 4: {
        // cdata
        const parent = node.parentNode;
        const inStyle = parent && parent.nodeType === 1 && (tagOf(parent) === 'style' || tagOf(parent) === 'svg:style');
        out.push(`${pad}#text ${q(inStyle ? canonicalCss(node.data, cssBase(node)) : node.data)}`);
        return;
      }
      case 8: // comment
        out.push(`${pad}#comment ${q(node.data)}`);
        return;
      case 7: // processing instruction
        out.push(`${pad}#pi ${q(node.target)} ${q(node.data)}`);
        return;
      case 1: {
        const el = node;
        if (matches(el, opts.skipSelector)) return;
        const tag = tagOf(el);
        if (isStylesheetLink(el) || isReplacedStylesheet(el)) {
          let href = isStylesheetLink(el) || !el.hasAttribute('data-tabreel-href') ? el.getAttribute('href') : el.getAttribute('data-tabreel-href');
          if (opts.baseUrl && href !== null) href = absolute(href);
          const extra = ['media', 'title', 'id']
            .filter((n) => el.hasAttribute(n))
            .map((n) => `${n}=${q(el.getAttribute(n))}`)
            .join(' ');
          out.push(`${pad}stylesheet(${q(href)})${extra ? ' ' + extra : ''}`);
          return;
        }
        const masked = isMasked(el);
        const attrs = keptAttrs(el, tag, masked)
          .map(([n, v]) => ` ${n}=${q(v)}`)
          .join('');
        const extras = formState(el, tag, masked);
        if (opts.cssom && tag === 'style') {
          const rules = el.sheet ? rulesOf(el.sheet, cssBase(el)) : [];
          extras.push(rules ? `{css=${hash(rules.join('\n'))} rules=${rules.length}}` : '{css=unreadable}');
        }
        if (opts.canvas && tag === 'canvas') extras.push(canvasState(el));
        if (opts.scroll && (el.scrollTop || el.scrollLeft) && el !== el.ownerDocument.scrollingElement) {
          extras.push(`{scroll=${Math.round(el.scrollLeft)},${Math.round(el.scrollTop)}}`);
        }
        out.push(`${pad}<${tag}${attrs}>${extras.length ? ' ' + extras.join(' ') : ''}`);
        if (tag === 'script' || tag === 'svg:script') return; // script text may be dropped at capture
        if (opts.cssom && tag === 'style') return; // its effective rules are on its line
        if (tag === 'iframe' || tag === 'frame') {
          // The frame's own document is out of scope unless opts.frames; its fallback children
          // (none in HTML) always are.
          if (opts.frames) {
            let fdoc = null;
            try {
              fdoc = el.contentDocument; // null when cross-origin
            } catch (e) {
              fdoc = null;
            }
            if (fdoc) {
              out.push(`${pad}  #frame-document`);
              for (const c of Array.from(fdoc.childNodes)) walk(c, depth + 2);
            } else {
              out.push(`${pad}  #frame-document (unreadable)`);
            }
          }
          return;
        }
        if (opts.shadow && el.shadowRoot) {
          out.push(`${pad}  #shadow-root (${el.shadowRoot.mode})`);
          adoptedLine(el.shadowRoot, pad + '    ');
          for (const c of Array.from(el.shadowRoot.childNodes)) walk(c, depth + 2);
        }
        // <template> content lives in a fragment; compare it too.
        if (tag === 'template' && el.content) {
          out.push(`${pad}  #template-content`);
          for (const c of Array.from(el.content.childNodes)) walk(c, depth + 2);
        }
        for (const c of Array.from(el.childNodes)) walk(c, depth + 1);
        return;
      }
      case 11: // fragment
        for (const c of Array.from(node.childNodes)) walk(c, depth);
        return;
      default:
        out.push(`${pad}#node${node.nodeType}`);
    }
  }
  if (!doc) return '(no document)';
  walk(doc, 0);
  return out.join('\n') + '\n';
}

/**
 * A unified-diff-like excerpt around the first differing line of two texts (node side).
 */
export function firstDifference(expected, actual, { context = 6, expectedLabel = 'expected', actualLabel = 'actual', maxLines = 40 } = {}) {
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return '(no difference)';
  // Find where they resynchronise (first common line after the difference), to show a hunk.
  let endA = a.length;
  let endB = b.length;
  outer: for (let da = 0; da < Math.min(200, a.length - i); da++) {
    for (let db = 0; db < Math.min(200, b.length - i); db++) {
      if (a[i + da] === b[i + db] && a[i + da] !== undefined && a[i + da].trim() !== '') {
        // require two lines of agreement to call it a resync
        if (a[i + da + 1] === b[i + db + 1]) {
          endA = i + da;
          endB = i + db;
          break outer;
        }
      }
    }
  }
  const lines = [`--- ${expectedLabel} (${a.length} lines)`, `+++ ${actualLabel} (${b.length} lines)`, `@@ first difference at line ${i + 1} @@`];
  for (let k = Math.max(0, i - context); k < i; k++) lines.push(`  ${a[k]}`);
  const removed = a.slice(i, endA);
  const added = b.slice(i, endB);
  for (const l of removed.slice(0, maxLines)) lines.push(`- ${l}`);
  if (removed.length > maxLines) lines.push(`- … ${removed.length - maxLines} more`);
  for (const l of added.slice(0, maxLines)) lines.push(`+ ${l}`);
  if (added.length > maxLines) lines.push(`+ … ${added.length - maxLines} more`);
  for (let k = endA; k < Math.min(a.length, endA + 3); k++) lines.push(`  ${a[k]}`);
  return lines.join('\n');
}
