"""Calling numba kernels from hot Python loops.

:func:`entry_point` compiles a kernel for one exact signature and returns its compiled wrapper: a
call skips the dispatcher's type resolution of every argument (about half the cost of a call with
several array arguments). Kernels keep ``cache=True``, so the compilation is paid once per machine.
"""

from __future__ import annotations

from typing import Any


def entry_point(kernel: Any, signature: tuple[Any, ...]) -> Any:
    """``kernel`` (an ``@njit`` dispatcher) compiled for ``signature`` (numba types), called past the
    dispatcher; the dispatcher itself if numba does not expose the wrapper."""
    kernel.compile(signature)
    compiled = kernel.overloads.get(signature)
    return getattr(compiled, "entry_point", None) or kernel
