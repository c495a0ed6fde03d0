// API pages: each source listing is a file of its own (tools/api_source.py), fetched the first
// time the reader opens its "Source code in ..." block.
document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open) return;
    const slot = details.querySelector(":scope > .api-source[data-src]");
    if (!slot || slot.dataset.loaded) return;
    slot.dataset.loaded = "1";
    fetch(new URL(slot.dataset.src, location.href))
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => (slot.innerHTML = html))
      .catch(() => delete slot.dataset.loaded);
  },
  true,
);
