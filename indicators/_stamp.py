"""One hash of the whole package's source: what compiled kernels are keyed on.

Why: a kernel inlines step functions from other modules, so a change to any ``.py`` file
of the package must invalidate every compiled kernel, numba's JIT cache (``_cache``) and
the ahead-of-time extension (``_kernels``) alike. Needs no numba.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def package_stamp() -> str:
    """SHA-256 over the names and contents of the package's ``.py`` files."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
