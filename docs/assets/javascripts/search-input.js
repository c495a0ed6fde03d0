// Material's search reads the query on `keyup` only. Text that arrives without a key event --
// the last syllable of a Korean IME composition, a paste, an autofill -- would not be searched
// until the next key, so forward every `input` event on the search box as a `keyup`.
document.addEventListener("input", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.classList.contains("md-search__input")) {
    target.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
  }
});
