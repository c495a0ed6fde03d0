// Blocks below the first screen are drawn only when they come near it (content-visibility: auto
// in extra.css, issue 17); until then each holds an estimated height. A jump to #anchor (a link
// from another page, the table of contents, a search result) lands where the estimates put the
// target, and the target would then move as the blocks around it are drawn with their real
// heights (on the API pages by hundreds of pixels). So after a jump, the target is put back at the
// top of the screen each frame until it stays put, for at most two seconds, and never once the
// reader scrolls, taps or presses a key.
(() => {
  let run = 0;
  const stop = () => (run += 1);
  for (const type of ["wheel", "touchstart", "keydown", "mousedown"]) {
    addEventListener(type, stop, { passive: true });
  }
  const keep = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && document.getElementById(id);
    if (!target) return;
    const mine = (run += 1);
    const until = performance.now() + 2000;
    let last = null;
    let still = 0;
    const step = () => {
      if (mine !== run || performance.now() > until) return;
      const top = target.getBoundingClientRect().top;
      if (last !== null && Math.abs(top - last) < 1) still += 1;
      else still = 0;
      if (still >= 10) return;
      target.scrollIntoView();
      last = target.getBoundingClientRect().top;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  };
  addEventListener("hashchange", keep);
  if (document.readyState === "complete") keep();
  else addEventListener("load", keep, { once: true });
})();
