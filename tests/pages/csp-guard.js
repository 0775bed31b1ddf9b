// Loaded first: records every CSP violation this document sees, in a DOM-free global.
(function () {
  'use strict';
  const violations = [];
  Object.defineProperty(window, '__violations', { value: violations, writable: false, configurable: false });
  function record(e) {
    violations.push({
      directive: e.violatedDirective || e.effectiveDirective,
      blockedURI: e.blockedURI,
      sample: e.sample,
      sourceFile: e.sourceFile,
      line: e.lineNumber,
      disposition: e.disposition,
      time: Date.now(),
    });
  }
  document.addEventListener('securitypolicyviolation', record, true);
  window.addEventListener('securitypolicyviolation', record, true);
  // Violations in other contexts of this page (e.g. workers) also surface as reports.
  if (typeof ReportingObserver === 'function') {
    try {
      new ReportingObserver(
        (reports) => {
          for (const r of reports) {
            if (r.type !== 'csp-violation') continue;
            const b = r.body || {};
            violations.push({ directive: b.effectiveDirective, blockedURI: b.blockedURL, sample: b.sample, sourceFile: b.sourceFile, via: 'ReportingObserver', time: Date.now() });
          }
        },
        { types: ['csp-violation'], buffered: true },
      ).observe();
    } catch (e) {
      /* not supported */
    }
  }
})();
