// MathJax 3 settings for pymdownx.arithmatex (generic mode). MathJax itself is served from this
// site (assets/mathjax/), copied at build time from the pinned django-static-mathjax package.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
    // No right-click menu: its optional parts would be fetched on demand.
    enableMenu: false,
  },
};
