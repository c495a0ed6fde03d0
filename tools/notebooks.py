"""Turn a page's Markdown into a Jupyter notebook that runs top to bottom.

Prose becomes Markdown cells and every runnable Python block a code cell (jupytext reads the
page). Blocks a reader cannot run as they are — shell commands and code marked
``<!-- fragment -->`` — stay visible as code in a Markdown cell. Cell ids are numbered, so the
same page always gives the same file.
"""

from __future__ import annotations

import jupytext
import nbformat

FRAGMENT_MARK = "<!-- fragment -->"


def page_to_notebook(markdown: str) -> str:
    """The notebook (JSON text, nbformat 4) for one page's Markdown source."""
    source = jupytext.reads(markdown, fmt="md")
    cells = []
    previous = None
    for original in source.cells:
        cell = original
        if cell.cell_type == "code" and cell.source.startswith("%%"):
            language, _, body = cell.source.partition("\n")
            cell = nbformat.v4.new_markdown_cell(f"```{language[2:]}\n{body}\n```")
        elif (
            cell.cell_type == "code"
            and previous is not None
            and previous.source.rstrip().endswith(FRAGMENT_MARK)
        ):
            cell = nbformat.v4.new_markdown_cell(f"```python\n{cell.source}\n```")
        elif cell.cell_type == "code":
            cell = nbformat.v4.new_code_cell(cell.source)
        else:
            cell = nbformat.v4.new_markdown_cell(cell.source.replace(FRAGMENT_MARK, "").strip())
        if cell.source.strip():
            cells.append(cell)
        previous = original
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number}"
    notebook = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    return nbformat.writes(notebook)
