// Loaded before Material's bundle (tools/mkdocs_hooks.py puts it there). Material requests
// search/search_index.json at the site's root as soon as a page loads. Instead:
// - English pages ask for en/search/search_index.json, so that results are in the page's language
//   (tools/search_index.py writes one index per language);
// - the request is sent only when the reader first reaches for the search box (focus, a tap on
//   the search icon, or the pointer over the search form), so that no page load pays for it.
// It also starts Material's search worker through workers/search-lunr.js, which fixes a lunr bug
// that made every query with certain words (평균) return nothing; that file explains it.
(() => {
  const WORKER = /\/workers\/(search\.[0-9a-f]+\.min\.js)$/;
  if (window.Worker) {
    window.Worker = class extends window.Worker {
      constructor(url, options) {
        const target = new URL(url, location.href);
        const match = WORKER.exec(target.pathname);
        if (match) {
          target.pathname = target.pathname.replace(WORKER, "/workers/search-lunr.js");
          target.search = `?bundle=${match[1]}`;
        }
        super(match ? target.href : url, options);
      }
    };
  }

  let open;
  const opened = new Promise((resolve) => (open = resolve));
  const wanted = (event) => {
    const target = event.target;
    if (target instanceof Element && target.closest(".md-search, label[for='__search']")) open();
  };
  document.addEventListener("focusin", wanted);
  document.addEventListener("pointerover", wanted);
  document.addEventListener("click", wanted);
  document.addEventListener("change", (event) => {
    if (event.target instanceof Element && event.target.id === "__search") open();
  });

  const INDEX = /\/search\/search_index\.json$/;
  const xhrOpen = XMLHttpRequest.prototype.open;
  const xhrSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    const target = new URL(url, location.href);
    if (INDEX.test(target.pathname)) {
      if (document.documentElement.lang === "en" && !target.pathname.endsWith("/en/search/search_index.json")) {
        target.pathname = target.pathname.replace(INDEX, "/en/search/search_index.json");
      }
      this.searchIndex = true;
      return xhrOpen.call(this, method, target.href, ...rest);
    }
    return xhrOpen.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (this.searchIndex) {
      opened.then(() => xhrSend.apply(this, args));
      return;
    }
    return xhrSend.apply(this, args);
  };
})();
