"""Shared by the ctf tests: the CTF generator lives in ``benchmarks/ctf_data.py`` (the import
benchmark uses the same files), which is not an installed package."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
