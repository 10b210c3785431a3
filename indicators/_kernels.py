"""The compiled kernels the runtime calls: ahead of time when possible, else numba's JIT.

Why: numba's JIT keeps LLVM in the process. Importing numba and loading the cached
kernels costs ~125 MB of RSS, most of what a 3-symbol bot would use. The same kernels
compiled ahead of time (``_aot``, from the very same functions) form a small extension
module that loads in about 1 MB and needs no numba. The numbers are identical: the same
LLVM optimisations on the same code, no fast-math (a test holds them equal bit for bit).

The extension is built once for each combination of the package's source, numba, Python
and CPU (its file name is a hash of them), in a child process so that the compiler's
memory never enters the caller, and cached beside numba's own cache (``__pycache__`` of
the package, else ``$NUMBA_CACHE_DIR`` or the user's cache directory). The first start
after an install or an edit pays the build (~10-20 s) once. When it cannot be built (no
C compiler, a numba without ``numba.pycc``), the reason is logged once and recorded beside
the module, and the runtime uses the JIT kernels.

``BOT_INDICATOR_KERNELS`` chooses: ``auto`` (default, as above), ``aot`` (build or fail)
or ``jit`` (never build; numba's JIT as before).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import platform
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any, NamedTuple

from indicators._aot import EXPORTS
from indicators._errors import IndicatorConfigError
from indicators._stamp import PACKAGE_DIR, package_stamp

_log = logging.getLogger(__name__)

ENV_VAR = "BOT_INDICATOR_KERNELS"
MODES = ("auto", "aot", "jit")
PREFIX = "indicators_aot_"
#: A build of the six kernels takes ~10-20 s; this bounds a stuck compiler.
BUILD_TIMEOUT_S = 600.0


class Kernels(NamedTuple):
    """The runtime's entry points (signatures in ``_aot.EXPORTS``) and where they came from."""

    set_update: Callable[..., Any]
    set_peek: Callable[..., Any]
    set_run: Callable[..., Any]
    corr_step: Callable[..., Any]
    corr_peek: Callable[..., Any]
    pair_batch: Callable[..., Any]
    origin: str  # "aot: PATH" or "jit"


class KernelBuildError(IndicatorConfigError):
    """The ahead-of-time kernels could not be built or loaded (``aot`` mode only)."""


_lock = threading.Lock()
_loaded: Kernels | None = None


def kernels() -> Kernels:
    """The kernels for this process: loaded (and if need be built) on the first call."""
    loaded = _loaded
    return loaded if loaded is not None else _load_once()


def _load_once() -> Kernels:
    global _loaded  # noqa: PLW0603 (one process-wide choice, made once under the lock)
    with _lock:
        if _loaded is None:
            _loaded = _choose(mode())
        return _loaded


def kernel_origin() -> str:
    """Load (on a first start: build) the kernels; say which: ``"aot: PATH"`` or ``"jit"``.

    The kernels themselves stay private: they trust their callers (``IndicatorSet``,
    ``RollingCorrelation``) to pass C-contiguous float64 arrays and int64 scalars.
    """
    return kernels().origin


def mode() -> str:
    """``BOT_INDICATOR_KERNELS``, checked."""
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise IndicatorConfigError(
            f"{ENV_VAR}: expected one of {', '.join(MODES)}, was {os.environ[ENV_VAR]!r}"
        )
    return value


def _choose(chosen: str) -> Kernels:
    if chosen == "jit":
        return jit_kernels()
    failed: Path | str = "its .failed file"
    try:
        path = aot_path()
        failed = path.with_name(path.name + ".failed")
        return _from_module(_load_or_build(path, failed, chosen), f"aot: {path}")
    except (KernelBuildError, OSError, RuntimeError) as exc:  # RuntimeError: no home dir
        if chosen == "aot":
            raise KernelBuildError(f"{ENV_VAR}=aot: {exc}") from exc
        _log.warning(
            "indicator kernels: using numba's JIT (~125 MB more RSS) because the "
            "ahead-of-time kernels are not available: %s (delete %s to retry)",
            exc,
            failed,
        )
        return jit_kernels()


def _load_or_build(path: Path, failed: Path, chosen: str) -> Any:
    """The built module; built first when missing, rebuilt once when it does not load."""
    if path.exists():
        try:
            return _import(path)
        except (ImportError, AttributeError) as exc:  # e.g. built against another numpy
            _log.warning("indicator kernels: %s does not load (%s): rebuilding it", path, exc)
            with contextlib.suppress(OSError):
                path.unlink()
    with _exclusive(path):  # one build when several processes start together
        if failed.exists() and chosen == "auto":
            raise KernelBuildError(failed.read_text(errors="replace").strip())
        if not path.exists():
            _build(path, failed)
    try:
        return _import(path)
    except (ImportError, AttributeError) as exc:
        reason = f"{path} does not load: {exc}"
        with contextlib.suppress(OSError):
            path.unlink()
        _record(failed, reason)
        raise KernelBuildError(reason) from exc


def _record(failed: Path, reason: str) -> None:
    """Keep why the build failed beside the module, so later starts do not retry it."""
    with contextlib.suppress(OSError):
        failed.parent.mkdir(parents=True, exist_ok=True)
        failed.write_text(reason + "\n")


def jit_kernels() -> Kernels:
    """The JIT-compiled kernels (imports numba; loads them from numba's on-disk cache)."""
    return Kernels(
        **{
            name: getattr(importlib.import_module(module), name)
            for name, (module, _) in EXPORTS.items()
        },
        origin="jit",
    )


def _from_module(module: Any, origin: str) -> Kernels:
    return Kernels(**{name: getattr(module, name) for name in EXPORTS}, origin=origin)


def _cpu_identity() -> str:
    """Model name and feature flags of this CPU (Linux), or "" when they cannot be read.

    Code tuned for one CPU may not run on another, so a host-tuned module is keyed on this.
    """
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""
    wanted = ("model name", "flags", "Features", "CPU part")
    lines = [line for line in text.splitlines() if line.split(":", 1)[0].strip() in wanted]
    return "\n".join(sorted(set(lines)))


def build_key() -> str:
    """The module's key: a hash of the package's source, the compiler's and numpy's
    versions, Python's, and this CPU."""
    cpu = _cpu_identity()
    versions = []
    for package in ("numba", "llvmlite", "numpy"):  # pycc also compiles against numpy's headers
        try:
            versions.append(importlib.metadata.version(package))
        except importlib.metadata.PackageNotFoundError:
            versions.append("none")
    parts = (package_stamp(), *versions, sys.version, platform.machine(), cpu)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def cache_dir(name: str = "") -> Path:
    """Where the module ``name`` lives: the package's ``__pycache__`` when it is there or the
    directory is writable (an install made by another user), else a user cache dir."""
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir) / "indicators"
    local = PACKAGE_DIR / "__pycache__"
    if name and (local / name).exists():
        return local
    with contextlib.suppress(OSError):
        local.mkdir(exist_ok=True)
    if os.access(local, os.W_OK):
        return local
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "delta-bot" / "indicators"


def aot_path() -> Path:
    """The extension module for this source, numba, Python and CPU."""
    name = f"{PREFIX}{build_key()}{EXTENSION_SUFFIXES[0]}"
    return cache_dir(name) / name


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an advisory lock beside ``path`` (POSIX; elsewhere builds may overlap safely)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        try:
            import fcntl
        except ImportError:
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _build(path: Path, failed: Path) -> None:
    """Run ``python -m indicators._aot`` in a child; record the reason when it fails."""
    command = [sys.executable, "-m", "indicators._aot", str(path)]
    if _cpu_identity():  # the key names this CPU, so the code may be tuned for it
        command.append("--host-cpu")
    env = dict(os.environ)
    root = str(PACKAGE_DIR.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
    _log.info("indicator kernels: compiling ahead of time (once per install, ~20 s) into %s", path)
    try:
        done = subprocess.run(
            command,
            cwd=root,  # the child compiles this checkout's package, not one in its cwd
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = f"the build did not finish: {exc}"
    else:
        if done.returncode == 0 and path.exists():
            _remove_stale(path)
            return
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        reason = f"the build exited {done.returncode}: {' | '.join(tail)}"
    _record(failed, reason)
    raise KernelBuildError(reason)


#: Modules kept per directory: the newest few, so two environments sharing one directory
#: (two virtualenvs of one checkout) do not delete each other's module on every start.
KEEP_MODULES = 4


def _remove_stale(current: Path) -> None:
    """Delete all but the newest :data:`KEEP_MODULES` modules of this directory, with their
    failure records (lock files stay: another process may hold one)."""
    suffix = EXTENSION_SUFFIXES[0]
    modules = sorted(
        current.parent.glob(f"{PREFIX}*{suffix}"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in modules[KEEP_MODULES:]:
        if old != current:
            with contextlib.suppress(OSError):
                old.unlink()
            with contextlib.suppress(OSError):
                old.with_name(old.name + ".failed").unlink()


def _import(path: Path) -> Any:
    name = path.name.split(".", 1)[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
