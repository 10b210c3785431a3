"""Fused multiply-add for numba kernels: ``fma(a, b, c) = a * b + c`` rounded once.

Why: TA-Lib 0.8 computes its EMA as ``fma(x - ema, k, ema)``; using the same fused
operation makes our EMA bit-identical to it and shortens the loop's dependency chain
(one FMA instead of a multiply then an add), which is what keeps the batch kernels as
fast as TA-Lib's C. ``llvm.fma`` is correctly rounded on every CPU (hardware FMA where
present, a libm call otherwise), so results do not depend on the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import llvmlite.ir as llvm_ir  # type: ignore[import-untyped]  # llvmlite ships no stubs
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:  # noqa: ARG001 (numba's signature)
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:  # noqa: ARG001 (numba API)
        double = llvm_ir.DoubleType()
        fnty = llvm_ir.FunctionType(double, [double, double, double])
        get = cgutils.get_or_insert_function  # untyped in numba
        fn = get(builder.module, fnty, "llvm.fma.f64")  # type: ignore[no-untyped-call]
        return builder.call(fn, args)

    return sig, codegen


#: ``fma(a, b, c)`` is ``a * b + c`` with a single rounding (float64; njit code only).
#: The cast only tells type checkers the call signature numba gives it.
fma = cast(Callable[[float, float, float], float], _fma)
