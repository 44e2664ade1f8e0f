"""Exact integer comparisons for the compiled kernels: ``a * b > c * d`` without int64 overflow.

Python's integers never overflow; a limit such as ``worst * 10_000 > bps * equity`` easily passes
2**63 in int64. :func:`prod_gt` compares the two 128-bit products exactly (32-bit limbs).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ZERO = np.uint64(0)


@njit(cache=True, inline="always")
def _mag(x: int) -> np.uint64:
    """|x| as uint64 (exact for -2**63 too)."""
    return np.uint64(x) if x >= 0 else _ZERO - np.uint64(x)


@njit(cache=True, inline="always")
def _mul_u128(x: np.uint64, y: np.uint64) -> tuple[np.uint64, np.uint64]:
    x0 = x & _M32
    x1 = x >> _S32
    y0 = y & _M32
    y1 = y >> _S32
    p00 = x0 * y0
    p01 = x0 * y1
    p10 = x1 * y0
    p11 = x1 * y1
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    lo = (p00 & _M32) | (mid << _S32)
    hi = p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    return hi, lo


@njit(cache=True, inline="always")
def _sign(x: int) -> int:
    return 1 if x > 0 else (-1 if x < 0 else 0)


@njit(cache=True)
def prod_gt(a: int, b: int, c: int, d: int) -> bool:
    """``a * b > c * d`` exactly, for any int64 operands."""
    s1 = _sign(a) * _sign(b)
    s2 = _sign(c) * _sign(d)
    if s1 != s2:
        return s1 > s2
    if s1 == 0:
        return False
    h1, l1 = _mul_u128(_mag(a), _mag(b))
    h2, l2 = _mul_u128(_mag(c), _mag(d))
    bigger = h1 > h2 or (h1 == h2 and l1 > l2)
    smaller = h1 < h2 or (h1 == h2 and l1 < l2)
    return bigger if s1 > 0 else smaller
