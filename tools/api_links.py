"""Links between the chapters and the API reference, both ways, found from the pages' code.

A page "uses" a refimpl object when one of its Python blocks imports it
(``from refimpl.functional import batch_norm_forward``). Each such object is resolved to the place
where it is defined (``refimpl.functional.batchnorm.batch_norm_forward``), which is the identifier
mkdocstrings gives its entry in the API reference. Then

- every chapter page ends with the list of objects it uses, each linked to its API entry, and
- every API page lists, for the objects it documents, the pages that use them.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
IMPORT = re.compile(r"^from (refimpl(?:\.\w+)*) import \(?([\w, \n]+)\)?", re.MULTILINE)
USED_IN_MARKER = re.compile(r"<!-- used-in: ([\w. ]+) -->")

USES_TITLE = {"ko": "이 페이지에서 쓴 refimpl API", "en": "refimpl API used on this page"}
USED_IN_HEADER = {
    "ko": "| 객체 | 쓰는 페이지 |\n| --- | --- |",
    "en": "| Object | Used on |\n| --- | --- |",
}


def canonical_name(module_name: str, name: str) -> str | None:
    """Where ``module_name.name`` is defined, e.g. refimpl.functional.batchnorm.batch_norm_forward.

    None for a name that is not a class or function of refimpl (a module, a constant).
    """
    obj = getattr(importlib.import_module(module_name), name, None)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return None
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("refimpl"):
        return None
    return f"{module}.{obj.__qualname__}"


def used_objects(markdown: str) -> list[str]:
    """Canonical names of the refimpl classes and functions a page's Python blocks import."""
    found: list[str] = []
    for block in FENCE.findall(markdown):
        for module_name, names in IMPORT.findall(block):
            for name in re.split(r"[,\s]+", names.strip()):
                canonical = canonical_name(module_name, name) if name else None
                if canonical and canonical not in found:
                    found.append(canonical)
    return found


def uses_admonition(markdown: str, lang: str) -> str:
    """The closing box of a chapter page: each object it uses, linked to the API reference."""
    objects = used_objects(markdown)
    if not objects:
        return ""
    short = [name.split(".")[-1] for name in objects]
    # two objects of one name (an experiment and the figure drawn from it) keep their module
    pairs = zip(objects, short, strict=True)
    shown = [name.removeprefix("refimpl.") if short.count(s) > 1 else s for name, s in pairs]
    items = "\n".join(f"    - [`{s}`][{name}]" for s, name in zip(shown, objects, strict=True))
    return f'\n\n!!! info "{USES_TITLE[lang]}"\n\n{items}\n'


def page_title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def used_in_table(modules: list[str], lang: str, api_page: Path, docs: Path) -> str:
    """A table of the objects of ``modules`` and the pages (in ``lang``) that use them.

    ``api_page`` is the source file of the API page the table goes on; ``docs`` the docs folder.
    """
    users: dict[str, list[Path]] = {}
    for page in sorted(docs.rglob(f"*.{lang}.md")):
        if page.relative_to(docs).parts[0] == "api":
            continue
        for name in used_objects(page.read_text(encoding="utf-8")):
            module = name.rsplit(".", 1)[0]
            if any(module == m or module.startswith(m + ".") for m in modules):
                users.setdefault(name, []).append(page)
    if not users:
        return ""
    rows = []
    for name in sorted(users):
        links = ", ".join(
            f"[{page_title(page)}]({relative_md_link(api_page, page, lang, docs)})"
            for page in users[name]
        )
        rows.append(f"| [`{name.split('.')[-1]}`][{name}] | {links} |")
    return USED_IN_HEADER[lang] + "\n" + "\n".join(rows)


def relative_md_link(source: Path, target: Path, lang: str, docs: Path) -> str:
    """A Markdown link from one page source to another, as MkDocs resolves them (no suffix)."""
    target_name = target.name.replace(f".{lang}.md", ".md")
    relative = Path(*[".."] * (len(source.relative_to(docs).parts) - 1))
    return (relative / target.relative_to(docs).parent / target_name).as_posix()
