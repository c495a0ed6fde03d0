"""Turn a page's Markdown into a Jupyter notebook that runs top to bottom.

Prose becomes Markdown cells and every runnable Python block a code cell (jupytext reads the
page, with its ``--8<--`` includes expanded as the site shows them). Blocks a reader cannot run
as they are — shell commands, and excerpts shown without a copy button (``{ .python .no-copy }``)
— stay visible as code in a Markdown cell. Cell ids are numbered, so the same page always gives
the same file.
"""

from __future__ import annotations

import jupytext
import nbformat
import snippets


def page_to_notebook(markdown: str) -> str:
    """The notebook (JSON text, nbformat 4) for one page's Markdown source."""
    source = jupytext.reads(snippets.expand(markdown), fmt="md")
    cells = []
    for cell in source.cells:
        if cell.cell_type == "code" and cell.source.startswith("%%"):
            language, _, body = cell.source.partition("\n")
            cell = nbformat.v4.new_markdown_cell(f"```{language[2:]}\n{body}\n```")
        elif cell.cell_type == "code":
            cell = nbformat.v4.new_code_cell(cell.source)
        else:  # prose, and code jupytext does not run (``{ .python .no-copy }`` excerpts)
            cell = nbformat.v4.new_markdown_cell(cell.source.strip())
        if cell.source.strip():
            cells.append(cell)
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
