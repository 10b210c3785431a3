"""Build the runtime kernels ahead of time: ``python -m indicators._aot OUTPUT``.

numba.pycc compiles the very functions the JIT runs (their ``py_func``, with every step
function they inline) into one small extension module at ``OUTPUT``. ``_kernels`` runs
this in a child process, so the ~125 MB that numba and LLVM cost stay in the child; the
caller then loads the extension without importing numba.

The module is written to a temporary name beside ``OUTPUT`` and renamed into place, so
a reader never sees half a file and two concurrent builds do not collide.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

_RESULT = "Tuple((" + ", ".join(["f8"] * 18 + ["i8", "i8"]) + "))"
_CANDLE = "(f8[::1], i8, f8, f8, f8, f8, f8)"
_COLUMNS = "(f8[::1], i8[::1], f8[::1], f8[::1], f8[::1], f8[::1], f8[::1])"

#: Kernel name -> (its module, its numba signature); exported under the same name. The
#: signatures are the types the runtime passes: C-contiguous float64 blocks and columns,
#: int64 times. ``_kernels.Kernels`` has one field per entry.
EXPORTS: dict[str, tuple[str, str]] = {
    "set_update": ("indicators._set_kernel", _RESULT + _CANDLE),
    "set_peek": ("indicators._set_kernel", _RESULT + _CANDLE),
    "set_run": ("indicators._set_kernel", "Tuple((f8[:, ::1], i8, i8))" + _COLUMNS),
    "corr_step": ("indicators._correlation_kernel", "i8(f8[::1], i8, f8[::1], f8[:, ::1])"),
    "corr_peek": (
        "indicators._correlation_kernel",
        "i8(f8[::1], f8[::1], i8, f8[::1], f8[:, ::1])",
    ),
    "pair_batch": (
        "indicators._correlation_kernel",
        "Tuple((f8[::1], i8, i8))(f8[::1], f8[::1], i8)",
    ),
}


def build(output: Path, *, host_cpu: bool) -> None:
    """Compile :data:`EXPORTS` into the extension module ``output``.

    The module's name is ``output``'s stem up to the first dot (Python finds its init
    function by that name). ``host_cpu`` tunes the code for this machine's CPU; the
    caller only asks for it when the file name is keyed on that CPU.
    """
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending-deprecation notice, once per build
        pycc: Any = importlib.import_module("numba.pycc")  # untyped

    cc = pycc.CC(output.name.split(".", 1)[0])
    if host_cpu:
        cc.target_cpu = "host"
    for name, (module, signature) in EXPORTS.items():
        kernel = getattr(importlib.import_module(module), name)
        cc.export(name, signature)(kernel.py_func)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".aot-build-") as scratch:
        cc.output_dir = scratch
        cc.output_file = output.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cc.compile()
        os.replace(Path(scratch) / output.name, output)


def main(argv: list[str] | None = None) -> int:
    """Build the module named on the command line; exit 0 on success."""
    parser = argparse.ArgumentParser(prog="python -m indicators._aot", description=__doc__)
    parser.add_argument("output", type=Path, help="path of the extension module to write")
    parser.add_argument("--host-cpu", action="store_true", help="tune for this CPU")
    args = parser.parse_args(argv)
    build(args.output, host_cpu=args.host_cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
