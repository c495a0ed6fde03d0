"""The search index as tools/search_index.py writes it, on small made-up indexes (no build).

- Formulas in result snippets read as text (λW), not as TeX (``\\(\\lambda W\\)``).
- Glossary variants are searched (``keywords``) but never shown: no entry's title or text holds
  an avoided variant (체중 감소) or a list of spellings.
- The glossary is one entry per term, at the term's anchor.
- The search worker's lunr fix (docs/assets/javascripts/workers/search-lunr.js), run with
  Material's own worker in Node: without it a query for 평균 finds nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import DOCS, REPO

sys.path.insert(0, str(REPO / "tools"))
import glossary
import search_index
from search_index import readable_math, tex_to_text

TERMS = glossary.load_terms()
WEIGHT_DECAY = next(term for term in TERMS if term.id == "weight-decay")


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"\lambda W", "λW"),
        (r"(1-\eta\lambda)W", "(1-ηλ)W"),
        (r"\frac{1}{m}\sum_{i=1}^{m} x_i", "1/m Σ_(i=1)^m x_i"),
        (r"\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}", "x̂ = (x - μ_B)/√(σ_B² + ε)"),
        (r"\mathbb E[x] \le \operatorname{Var}[x]", "E[x] ≤ Var[x]"),
        (r"\tfrac{\lambda}{2}\lVert W\rVert^2", "λ/2‖W‖²"),
        (r"\mu_{\text{run}}^{(T)}", "μ_run⁽ᵀ⁾"),
        (r"\min_k x_{kj} + \log x", "min_k x_kj + log x"),
        (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", "a = b ; c = d"),
        (r"W^\top \left( x \right.", "Wᵀ( x"),
    ],
)
def test_tex_becomes_text(tex, text):
    assert tex_to_text(tex) == text


def test_formulas_in_index_text_are_readable():
    text = r"<p>the gradient \(\lambda W\), the update \((1-\eta\lambda)W\) and \[ a &lt; b \]</p>"
    assert readable_math(text) == "<p>the gradient λW, the update (1-ηλ)W and a &lt; b</p>"
    assert readable_math("<p>no math, a \\ backslash</p>") == "<p>no math, a \\ backslash</p>"


def _site(tmp_path: Path) -> Path:
    """A built site's one index (both languages) as Material writes it, in miniature."""
    docs = [
        {
            "location": "",
            "title": "배치 정규화, 제대로 이해하기",
            "text": "<p>배치 정규화를 설명합니다.</p>",
        },
        {
            "location": "regularization/weight-decay/",
            "title": "가중치 감소",
            "text": r"<p>가중치 감소는 \(\lambda W\)를 기울기에 더합니다. 가중치 감소.</p>",
        },
        {
            "location": "regularization/weight-decay/#l2",
            "title": r"L2 페널티와 \((1-\eta\lambda)W\)",
            "text": "<p>가중치 감소를 유도합니다.</p>",
        },
        {
            "location": "glossary/",
            "title": "용어집",
            "text": "<p>용어를 모았습니다.</p> 용어 English 뜻 가중치 감소 weight decay 매 스텝 "
            "<p>이 표는 한 파일에서 만들어집니다.</p>",
        },
        {"location": "en/", "title": "Batch normalization", "text": "<p>About BN.</p>"},
        {
            "location": "en/regularization/weight-decay/",
            "title": "Weight decay",
            "text": r"<p>Weight decay adds \(\lambda W\) to the gradient.</p>",
        },
        {
            "location": "en/glossary/",
            "title": "Glossary",
            "text": "<p>The terms.</p> Term 한국어 Meaning weight decay 가중치 감소 Shrinks",
        },
    ]
    config = {
        "lang": ["en", "ko"],
        "separator": "[\\s\\-]+",
        "pipeline": [" "],
        "fields": {"title": {"boost": 1000.0}, "text": {"boost": 1.0}},
    }
    (tmp_path / "search").mkdir()
    index = {"config": config, "docs": docs}
    (tmp_path / "search" / "search_index.json").write_text(json.dumps(index), encoding="utf-8")
    return tmp_path


def _index(site: Path, lang: str) -> dict:
    path = site / ("search" if lang == "ko" else "en/search") / "search_index.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_variants_are_searched_but_never_shown(tmp_path):
    site = _site(tmp_path)
    search_index.split_by_language(site, TERMS)
    ko, en = _index(site, "ko"), _index(site, "en")
    assert ko["config"]["fields"]["keywords"]["boost"] > 1  # lunr indexes the field
    assert en["config"]["lang"] == ["en"]
    page = {doc["location"]: doc for doc in ko["docs"]}["regularization/weight-decay/"]
    # The term is in the page's title: its variants weigh the most (5 times each).
    assert page["keywords"].split().count("체중") == 5
    assert "가중치감소" in page["keywords"].split()
    for doc in ko["docs"] + en["docs"]:
        shown = doc["title"] + doc["text"]
        assert "#search-" not in doc["location"]
        assert "체중" not in shown and "가중치감소" not in shown and " · " not in shown, doc
        assert "\\(" not in shown and "\\lambda" not in shown, doc
    assert "λW" in page["text"]


def test_glossary_is_one_entry_per_term(tmp_path):
    site = _site(tmp_path)
    search_index.split_by_language(site, TERMS)
    for lang, prefix in (("ko", ""), ("en", "en/")):
        docs = _index(site, lang)["docs"]
        entries = [doc for doc in docs if doc["location"].startswith(f"{prefix}glossary/#")]
        assert len(entries) == len(TERMS)
        entry = {doc["location"]: doc for doc in entries}[f"{prefix}glossary/#weight-decay"]
        assert entry["title"] == WEIGHT_DECAY.name(lang)
        assert WEIGHT_DECAY.definition[lang] in entry["text"]
        assert len(entry["text"]) < 400
        page = {doc["location"]: doc for doc in docs}[f"{prefix}glossary/"]
        assert "weight decay" not in page["text"] and "가중치 감소" not in page["text"]  # no table
        if lang == "ko":
            assert "체중 감소" in entry["keywords"]  # found by the avoided variant, not shown
        # The page's entry comes first: Material's result groups rely on that order.
        assert docs.index(page) < min(docs.index(doc) for doc in entries)


def test_rewriting_twice_changes_nothing(tmp_path):
    """The i18n plugin may run the post-build step more than once on the same files."""
    site = _site(tmp_path)
    search_index.split_by_language(site, TERMS)
    first = (site / "search" / "search_index.json").read_text(encoding="utf-8")
    search_index.split_by_language(site, TERMS)
    assert (site / "search" / "search_index.json").read_text(encoding="utf-8") == first


# lunr's words, from a real Korean index, that make its automaton hold 평균=02 (not a word of the
# index) when the automaton's state numbers start at 1, as in a fresh search worker.
COLLIDING_WORDS = (
    "# $$ $1$ $\\alpha$ $\\beta$ $\\cdot\\ $\\gamma$ $\\mu_b$ $\\partial $\\sigma^2$ $a$ $b $c$ $m$"
    " $r_i$ $refimpl_cache $s $t$ $w $x_i$ $x_j$ $y %가 &amp &gt &lt **constants **inputs"
    " **methods *= *_backward *_forward *kernel *layers *normalized_shape *range *rest *spatial"
    " *states +0 +13장입니다 +1장에서 += +\\epsilon\\ 0$ 0% 0** 0000 000002 평균= 평균=0 평균=1"
).split()

NODE_CHECK = textwrap.dedent(
    """\
    const fs = require("fs"), path = require("path"), vm = require("vm");
    const [workers, bundle, fix, words] = process.argv.slice(2);
    async function run(withFix) {
      let handler, reply;
      const href = `http://127.0.0.1/workers/search-lunr.js?bundle=${bundle}`;
      const context = { console: { log() {}, warn() {} }, URL, Uint16Array, Map, Set,
        location: { href },
        addEventListener: (type, fn) => { handler = fn; }, postMessage: (m) => { reply = m; },
        importScripts: (...names) => { for (const name of names)
          vm.runInContext(fs.readFileSync(path.join(workers, name), "utf8"), context); } };
      context.self = context;
      vm.createContext(context);
      if (withFix) vm.runInContext(fs.readFileSync(fix, "utf8"), context);
      else context.importScripts(bundle);
      const docs = [{ location: "", title: "평균", text: words }];
      const fields = { title: { boost: 1000 }, text: { boost: 1 } };
      const config = { lang: ["en"], separator: "[\\\\s]+", pipeline: [], fields };
      await handler({ data: { type: 0, data: { config, docs, options: { suggest: false } } } });
      await handler({ data: { type: 2, data: "평균" } });
      return reply.data.items.length;
    }
    (async () => {
      const found = { without: await run(false), with: await run(true) };
      console.log(JSON.stringify(found));
    })();
    """
)


def test_the_worker_fix_makes_korean_words_findable(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    import material

    workers = Path(material.__file__).parent / "templates/assets/javascripts/workers"
    bundle = next(workers.glob("search.*.min.js")).name
    script = tmp_path / "check.js"
    script.write_text(NODE_CHECK, encoding="utf-8")
    fix = DOCS / "assets/javascripts/workers/search-lunr.js"
    result = subprocess.run(
        [node, str(script), str(workers), bundle, str(fix), " ".join(COLLIDING_WORDS)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    found = json.loads(result.stdout)
    # Material's worker alone fails the whole query (lunr throws); with the fix it finds the page.
    assert found == {"without": 0, "with": 1}, found
