"""Make numba's on-disk cache of every kernel depend on the whole package's source.

Why: numba keys a cached kernel on its own file only. A kernel in ``_set_kernel.py``
inlines step functions from ``_pivots.py`` and others, so after an edit (or an upgrade)
of ``_pivots.py`` alone numba would keep loading the stale, previously compiled kernel.
This module registers cache locators that stamp every kernel of this package with one
hash of all the package's ``.py`` files, so any change recompiles everything (once; the
result is cached again). It must be imported before any ``@njit(cache=True)`` function of
the package is defined; ``_common`` does so and every kernel module imports ``_common``.

If numba's (semi-private) locator API changes, the hook is skipped with a warning and
numba's per-file behaviour applies.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from indicators._stamp import PACKAGE_DIR, package_stamp

_STAMP = package_stamp()


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().parent == PACKAGE_DIR
    except OSError:
        return False


def _stamped(base: Any) -> Any:
    class PackageStampedLocator(base):  # type: ignore[misc]  # base is numba's, untyped
        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not _in_package(py_file):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self) -> str:
            return _STAMP

    PackageStampedLocator.__name__ = f"IndicatorPackage{base.__name__}"
    return PackageStampedLocator


def install() -> None:
    """Prepend the package-stamped locators to numba's list (idempotent)."""
    try:
        from numba.core import caching

        # Named CacheImpl in recent numba, _CacheImpl before.
        impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")  # noqa: B009 (absent in new numba)
        if getattr(impl, "_indicators_package_stamp", None) == _STAMP:
            return
        bases = [
            cls
            for cls in impl._locator_classes
            if issubclass(cls, caching._SourceFileBackedLocatorMixin)
        ]
        impl._locator_classes[:0] = [_stamped(cls) for cls in bases]
        impl._indicators_package_stamp = _STAMP
    except (ImportError, AttributeError, TypeError) as exc:  # numba internals moved
        warnings.warn(
            f"indicators: cannot hook numba's cache locators ({exc}); after editing a step "
            "function, clear indicators/__pycache__ by hand",
            RuntimeWarning,
            stacklevel=2,
        )


install()
