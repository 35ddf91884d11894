"""MkDocs hook: drop the Sphinx roles (``:func:``, ``:class:`` …) that prefix code in the docstrings."""
from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|obj|exc):(?=<code>)")


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub("", html)
