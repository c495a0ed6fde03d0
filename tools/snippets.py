"""Expand a page's ``--8<--`` includes, exactly as the build does.

Pages quote library code with pymdownx.snippets sections, e.g.

    ```{ .python .no-copy }
    --8<-- "refimpl/functional/batchnorm.py:forward"
    ```

The build expands these lines while it converts Markdown, after the hooks, the notebook writer
and the tests have read the page source. `expand` runs the same preprocessor, with the base
path mkdocs.yml gives it (the repository root), so that every reader of a page sees the code the
reader of the site sees.
"""

from __future__ import annotations

from pathlib import Path

import markdown
from pymdownx.snippets import SnippetExtension

REPO = Path(__file__).resolve().parents[1]


def expand(text: str, base_path: Path = REPO) -> str:
    """``text`` with every ``--8<--`` include replaced by the lines it names.

    A missing file or section raises (as ``check_paths: true`` makes the build fail).
    """
    md = markdown.Markdown(
        extensions=[SnippetExtension(base_path=[str(base_path)], check_paths=True)]
    )
    return "\n".join(md.preprocessors["snippet"].run(text.split("\n")))
