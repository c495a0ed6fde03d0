"""Experiments behind the site's figures and numbers, one module per chapter.

Each experiment is a pure, seeded function decorated with `refimpl.cache.cached`, returning plain
data (numbers, arrays, dictionaries of them). Figures in `refimpl.figures` draw from these
results, pages print from them, and tests assert the claims each figure makes.
"""
