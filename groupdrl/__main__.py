"""``python -m groupdrl``: the command line."""
from __future__ import annotations

from groupdrl.cli import main

raise SystemExit(main())
