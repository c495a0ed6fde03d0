"""Command line: ``python -m refimpl figures ...`` (and ``refimpl figures ...`` once installed).

    python -m refimpl figures --list
    python -m refimpl figures [--out DIR] [--lang ko|en] [--only NAME ...]
    python -m refimpl warm [--workers N]

``figures`` regenerates the site's figures as SVG and PNG files, exactly as the pages draw them
(``NAME.LANG.svg``, and ``NAME.LANG.dark.svg`` for the dark scheme).
``search`` reruns the hyperparameter searches of the tuning chapter (see ``--help``).
``warm`` runs the experiments behind every figure on all cores, so that the next docs build
finds them in its cache (the build does this itself, with progress, before its first page).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from refimpl.search import cli as search_cli


def _figures(args: argparse.Namespace) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    from tqdm import tqdm

    from refimpl.figures import draw_svg, load_all
    from refimpl.plotting import figure_svg, plt, style

    figures = load_all()
    if args.list:
        width = max(len(name) for name in figures)
        for name, spec in sorted(figures.items()):
            print(f"{name:<{width}}  docs/{spec.page}.{{ko,en}}.md")
        return 0
    unknown = sorted(set(args.only or ()) - figures.keys())
    if unknown:
        print(f"figures: unknown figure name(s): {', '.join(unknown)}", file=sys.stderr)
        print("figures: `python -m refimpl figures --list` names them all", file=sys.stderr)
        return 2
    names = sorted(args.only or figures)
    languages = [args.lang] if args.lang else ["ko", "en"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    made = []
    jobs = [(name, lang) for name in names for lang in languages]
    for name, lang in tqdm(jobs, desc="figures", unit="figure", file=sys.stderr):
        draw = figures[name].draw
        svg, png = out / f"{name}.{lang}.svg", out / f"{name}.{lang}.png"
        dark = out / f"{name}.{lang}.dark.svg"
        with style():
            fig = draw(lang=lang)
            svg.write_text(figure_svg(fig), encoding="utf-8")
            fig.savefig(png, dpi=150)
        plt.close(fig)
        dark.write_text(draw_svg(draw, (), {"lang": lang}, "dark"), encoding="utf-8")
        made += [svg, dark, png]
    for path in made:
        print(path)
    return 0


def _warm(args: argparse.Namespace) -> int:
    from refimpl.warm import warm

    drawn = warm(args.workers)
    if drawn:
        print(f"refimpl warm: {drawn} figures drawn (each language counts)")
    else:
        print("refimpl warm: the cache is warm")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m refimpl", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    figures = commands.add_parser("figures", help="regenerate the site's figures as SVG and PNG")
    figures.add_argument(
        "--out",
        metavar="DIR",
        default="figures",
        help="folder to write NAME.LANG.svg/.dark.svg/.png into (default: ./figures)",
    )
    figures.add_argument("--lang", choices=["ko", "en"], help="only this language's labels")
    figures.add_argument("--only", metavar="NAME", nargs="+", help="only these figures")
    figures.add_argument("--list", action="store_true", help="list figure names and their pages")
    figures.set_defaults(run=_figures)

    warm = commands.add_parser(
        "warm",
        help="run the experiments behind every figure on all cores (fills the build's cache)",
    )
    warm.add_argument(
        "--workers", type=int, default=None, help="processes to use (default: one per core)"
    )
    warm.set_defaults(run=_warm)

    search = search_cli.add_parser(commands)
    search.set_defaults(run=search_cli.run)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
