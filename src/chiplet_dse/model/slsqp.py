"""SciPy 1.15's SLSQP, driven so that many runs share one batched objective evaluation.

The original calls ``scipy.optimize.minimize(f, x0, bounds=[(0, 1)]*G,
constraints=[LinearConstraint(ones, 1, 1)])`` once per starting point. Its iterates depend on
every bit of every objective value, so reproducing its numbers means reproducing that call
exactly: the Fortran SLSQP routine (``scipy.optimize._slsqp``, SciPy 1.15.x), the
``ScalarFunction`` cache, the clipping of ``x`` into the bounds, and the 2-point
forward-difference gradient of ``approx_derivative`` with absolute step ``sqrt(eps)``.

Each run is a generator that yields the points it needs evaluated and receives their
objective values; :func:`minimize_many` advances all runs in lockstep and evaluates every
pending point of every run in one call, which is what makes the vectorised engine pay off.
The objective must be a pure function of ``x`` (the original restores the chiplet state before
every evaluation, so it is).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

import numpy as np
from scipy.optimize._slsqp import slsqp as _fortran_slsqp

_EPS_STEP = float(np.sqrt(np.finfo(float).eps))  # scipy.optimize._optimize._epsilon

Request = list[np.ndarray]
Run = Generator[Request, Sequence[float], np.ndarray]


def _fd_points(x0: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
    """The points and steps of ``approx_derivative(method='2-point', abs_step=sqrt(eps))``.

    Scalar arithmetic on the same doubles as SciPy's array code, so the same bits; a step that
    would leave [0, 1] is flipped (or shrunk, if it fits on neither side) as SciPy does.
    """
    points, dxs = [], []
    for i, xi in enumerate(x0.tolist()):
        h = _EPS_STEP
        if (xi + h) - xi == 0:
            h = _EPS_STEP * (1.0 if xi >= 0 else -1.0) * max(1.0, abs(xi))
        lower, upper = xi - 0.0, 1.0 - xi
        fitting = abs(h) <= max(lower, upper)
        if fitting:
            if xi + h < 0.0 or xi + h > 1.0:
                h = -h
        else:
            h = upper if upper >= lower else -lower
        x1 = x0.copy()
        x1[i] = xi + h
        dxs.append(float(x1[i]) - xi)  # recomputed as an exactly representable step
        points.append(x1)
    return points, dxs


def _gradient(f0: float, values: Sequence[float], dxs: Sequence[float]) -> list[float]:
    return [(fv - f0) / dx for fv, dx in zip(values, dxs, strict=True)]


def slsqp_run(x0: Sequence[float], maxiter: int = 100, ftol: float = 1e-6) -> Run:
    """One ``minimize`` call on the simplex ``{0 <= x <= 1, sum(x) = 1}``, as a coroutine."""
    x = np.clip(np.asarray(x0, dtype=float).reshape(-1), 0.0, 1.0)
    n = x.size
    m, meq, la = 1, 1, 1
    n1 = n + 1
    mineq = m - meq + n1 + n1
    len_w = (
        (3 * n1 + m) * (n1 + 1)
        + (n1 - meq + 1) * (mineq + 2)
        + 2 * mineq
        + (n1 + mineq) * (n1 - meq)
        + 2 * meq
        + n1
        + ((n + 1) * n) // 2
        + 2 * m
        + 3 * n
        + 3 * n1
        + 1
    )
    w = np.zeros(len_w)
    jw = np.zeros(mineq)  # float, as SciPy passes it (f2py copies it to int every call)
    xl, xu = np.zeros(n), np.ones(n)
    mode = np.array(0, int)
    acc = np.array(ftol, float)
    majiter = np.array(maxiter - 1, int)
    fstate = [np.array(0, float) for _ in range(10)]  # alpha f0 gs h1 h2 h3 h4 t t0 tol
    istate = [np.array(0, int) for _ in range(8)]  # iexact incons ireset itermx line n1 n2 n3
    normals = np.concatenate((np.ones((1, n)), np.zeros([la, 1])), 1)
    g = np.zeros(n1)
    c = np.zeros(1)

    def constraint() -> None:
        # np.dot(ones, x) - 1: a sequential sum (multiplying by one is exact, fused or not).
        total = 0.0
        for v in x.tolist():
            total += v
        c[0] = total - 1.0

    def clipped() -> tuple[np.ndarray, list[float]]:
        values = x.tolist()
        if min(values) < 0.0 or max(values) > 1.0:
            xc = np.clip(x, 0.0, 1.0)
            return xc, xc.tolist()
        return x.copy(), values

    # ScalarFunction evaluates f and its gradient at the starting point on construction.
    sf_x, sf_list = x.copy(), x.tolist()
    fx = (yield [sf_x])[0]
    points, dxs = _fd_points(sf_x)
    grad = _gradient(fx, (yield points), dxs)
    g[:n] = grad
    constraint()
    while True:
        _fortran_slsqp(
            m, meq, x, xl, xu, fx, c, g, normals, acc, majiter, mode, w, jw, *fstate, *istate
        )
        if mode == 1:
            xc, xc_list = clipped()
            if xc_list != sf_list:  # ScalarFunction re-evaluates only at a new point
                sf_x, sf_list = xc, xc_list
                fx = (yield [sf_x])[0]
                grad = None
            constraint()
        elif mode == -1:
            xc, xc_list = clipped()
            if xc_list != sf_list:
                sf_x, sf_list = xc, xc_list
                points, dxs = _fd_points(sf_x)
                values = yield [sf_x, *points]
                fx, grad = values[0], _gradient(values[0], values[1:], dxs)
            elif grad is None:
                points, dxs = _fd_points(sf_x)
                grad = _gradient(fx, (yield points), dxs)
            g[:n] = grad
        else:
            return x


def minimize_many(
    starts: Sequence[Sequence[float]], evaluate: Callable[[np.ndarray], Sequence[float]]
) -> list[np.ndarray]:
    """Run SLSQP from every start in lockstep; ``evaluate`` scores a (P, n) batch of points.

    Returns the final iterate of each run, unclipped, as ``minimize(...).x`` would.
    """
    runs = [slsqp_run(x0) for x0 in starts]
    results: list[np.ndarray | None] = [None] * len(runs)
    pending = {i: next(run) for i, run in enumerate(runs)}
    while pending:
        order = list(pending)
        batch = np.array([p for i in order for p in pending[i]])
        values = list(evaluate(batch))
        at = 0
        for i in order:
            k = len(pending[i])
            try:
                pending[i] = runs[i].send(values[at : at + k])
            except StopIteration as done:
                results[i] = done.value
                del pending[i]
            at += k
    return results  # type: ignore[return-value]
