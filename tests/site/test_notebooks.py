"""Every chapter page is downloadable as a notebook made from the same source, and it runs."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from .conftest import REPO, built_pages, run_notebook

sys.path.insert(0, str(REPO / "tools"))
import notebooks

PAGE = textwrap.dedent(
    """\
    # Title

    Some prose with $x^2$.

    ```python exec="1" source="tabbed-left"
    x = 2
    print(x)
    ```

    ```{ .python .no-copy }
    model.fit(...)
    ```

    ```{ .python .no-copy }
    --8<-- "refimpl/functional/batchnorm.py:forward"
    ```

    ```bash
    make serve
    ```

    ```python
    print(x + 1)
    ```
    """
)


def test_page_becomes_runnable_cells():
    notebook = json.loads(notebooks.page_to_notebook(PAGE))
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code == ["x = 2\nprint(x)", "print(x + 1)"]
    assert kinds[0] == "markdown"
    text = json.dumps(notebook)
    assert "model.fit" in text and "make serve" in text  # kept, as Markdown
    assert "def batch_norm_forward(" in text  # the quoted library code, as the site shows it
    assert "--8<--" not in text
    assert [cell["id"] for cell in notebook["cells"]] == [f"cell-{i}" for i in range(len(kinds))]
    assert notebooks.page_to_notebook(PAGE) == notebooks.page_to_notebook(PAGE)


def _chapter_notebooks(built_site):
    found = []
    for lang in ("ko", "en"):
        root = built_site if lang == "ko" else built_site / lang
        for page in built_pages(built_site, lang):
            if len(page.parts) > 2 and page.parts[0] != "api":
                found.append(root / page.parent / f"{page.parts[-2]}.ipynb")
    return found


@pytest.mark.site
def test_every_chapter_page_has_its_notebook(built_site):
    for notebook in _chapter_notebooks(built_site):
        assert notebook.is_file(), notebook
        html = (notebook.parent / "index.html").read_text(encoding="utf-8")
        assert f'href="{notebook.name}"' in html, f"{notebook.parent}: no download link"


@pytest.mark.site
@pytest.mark.slow
def test_a_notebook_runs_top_to_bottom(built_site, experiment_cache, tmp_path):
    chapter_notebooks = _chapter_notebooks(built_site)
    if not chapter_notebooks:
        pytest.fail("the site has no chapter notebooks")
    notebook = min(chapter_notebooks, key=lambda path: path.stat().st_size)
    result = run_notebook(notebook, tmp_path, experiment_cache, timeout=600)
    assert result.returncode == 0, f"{notebook}:\n{result.stdout}\n{result.stderr}"
