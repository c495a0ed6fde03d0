"""Turn a page's Markdown into a Jupyter notebook that runs top to bottom.

Prose becomes Markdown cells and every runnable Python block a code cell (jupytext reads the
page, with its ``--8<--`` includes expanded as the site shows them). Blocks a reader cannot run
as they are — shell commands, and excerpts shown without a copy button (``{ .python .no-copy }``)
— stay visible as code in a Markdown cell. Cell ids are numbered, so the same page always gives
the same file.
"""

from __future__ import annotations

import re

import jupytext
import nbformat
import snippets

# A collapsed admonition, ``??? type "Title"`` (pymdownx.details): an exercise's answer or solution.
COLLAPSED = re.compile(r'^\?\?\?\+? *[\w-]+(?: +"(?P<title>[^"]*)")? *$')


def collapsed_as_details(text: str) -> str:
    """Collapsed admonitions as HTML ``<details>``, which Jupyter folds as the site does.

    The answers and solutions of the exercises stay hidden until the reader opens them, in the
    notebook too; their indented body is dedented into ordinary Markdown.
    """
    lines, out, index = text.split("\n"), [], 0
    while index < len(lines):
        match = COLLAPSED.match(lines[index])
        index += 1
        if not match:
            out.append(lines[index - 1])
            continue
        body = []
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith("    ")):
            body.append(lines[index][4:])
            index += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        title = match["title"] or ""
        out += ["<details>", f"<summary>{title}</summary>", "", *body, "", "</details>", ""]
    return "\n".join(out).strip()


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
            cell = nbformat.v4.new_markdown_cell(collapsed_as_details(cell.source.strip()))
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
