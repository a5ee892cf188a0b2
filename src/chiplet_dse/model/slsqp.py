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

_EPS_STEP = np.sqrt(np.finfo(float).eps)  # scipy.optimize._optimize._epsilon

Request = list[np.ndarray]
Run = Generator[Request, Sequence[float], np.ndarray]


def _fd_steps(x0: np.ndarray) -> np.ndarray:
    """``approx_derivative``'s absolute steps, flipped where they would leave [0, 1]."""
    sign = (x0 >= 0).astype(float) * 2 - 1
    h = np.where(((x0 + _EPS_STEP) - x0) == 0,
                 _EPS_STEP * sign * np.maximum(1.0, np.abs(x0)), _EPS_STEP)
    lower, upper = x0 - 0.0, 1.0 - x0
    x = x0 + h
    violated = (x < 0.0) | (x > 1.0)
    fitting = np.abs(h) <= np.maximum(lower, upper)
    h = h.copy()
    h[violated & fitting] *= -1
    forward = (upper >= lower) & ~fitting
    h[forward] = upper[forward]
    backward = (upper < lower) & ~fitting
    h[backward] = -lower[backward]
    return h


def _fd_points(x0: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
    h = _fd_steps(x0)
    points, dxs = [], []
    for i in range(x0.size):
        x1 = x0.copy()
        x1[i] += h[i]
        dxs.append(x1[i] - x0[i])  # recomputed as an exactly representable step
        points.append(x1)
    return points, dxs


def _gradient(f0: float, values: Sequence[float], dxs: Sequence[float]) -> np.ndarray:
    f0_arr = np.atleast_1d(f0)
    grad = np.empty(len(dxs))
    for i, (fv, dx) in enumerate(zip(values, dxs, strict=True)):
        grad[i] = ((np.atleast_1d(fv) - f0_arr) / dx)[0]
    return grad


def _clip(x: np.ndarray) -> np.ndarray:
    if (x < 0.0).any() or (x > 1.0).any():
        return np.clip(x, 0.0, 1.0)
    return x


def slsqp_run(x0: Sequence[float], maxiter: int = 100, ftol: float = 1e-6) -> Run:
    """One ``minimize`` call on the simplex ``{0 <= x <= 1, sum(x) = 1}``, as a coroutine."""
    x = np.clip(np.asarray(x0, dtype=float).reshape(-1), 0.0, 1.0)
    n = x.size
    a_con = np.ones((1, n))
    m, meq, la = 1, 1, 1
    n1 = n + 1
    mineq = m - meq + n1 + n1
    len_w = ((3 * n1 + m) * (n1 + 1) + (n1 - meq + 1) * (mineq + 2) + 2 * mineq
             + (n1 + mineq) * (n1 - meq) + 2 * meq + n1 + ((n + 1) * n) // 2 + 2 * m + 3 * n
             + 3 * n1 + 1)
    w = np.zeros(len_w)
    jw = np.zeros(mineq)  # float, as SciPy passes it (f2py copies it to int every call)
    xl, xu = np.zeros(n), np.ones(n)
    mode = np.array(0, int)
    acc = np.array(ftol, float)
    majiter = np.array(maxiter - 1, int)
    fstate = [np.array(0, float) for _ in range(9)]  # alpha f0 gs h1 h2 h3 h4 t t0
    tol = np.array(0, float)
    istate = [np.array(0, int) for _ in range(8)]  # iexact incons ireset itermx line n1 n2 n3
    normals = np.concatenate((a_con, np.zeros([la, 1])), 1)

    # ScalarFunction: evaluates f and its gradient at the starting point on construction.
    sf_x = x.copy()
    fx = (yield [sf_x])[0]
    points, dxs = _fd_points(sf_x)
    grad = _gradient(fx, (yield points), dxs)
    g = np.append(grad, 0.0)
    c = np.dot(a_con, x) - 1.0
    while True:
        _fortran_slsqp(m, meq, x, xl, xu, fx, c, g, normals, acc, majiter, mode, w, jw,
                       *fstate[:7], fstate[7], fstate[8], tol, *istate)
        if mode == 1:
            xc = _clip(x)
            if not np.array_equal(xc, sf_x):
                sf_x = xc.astype(float)
                fx = (yield [sf_x])[0]
                grad = None
            c = np.dot(a_con, x) - 1.0
        if mode == -1:
            xc = _clip(x)
            if not np.array_equal(xc, sf_x):
                sf_x = xc.astype(float)
                points, dxs = _fd_points(sf_x)
                values = yield [sf_x, *points]
                fx, grad = values[0], _gradient(values[0], values[1:], dxs)
            elif grad is None:
                points, dxs = _fd_points(sf_x)
                grad = _gradient(fx, (yield points), dxs)
            g = np.append(grad, 0.0)
        if abs(mode) != 1:
            return x


def minimize_many(starts: Sequence[Sequence[float]],
                  evaluate: Callable[[np.ndarray], Sequence[float]]) -> list[np.ndarray]:
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
                pending[i] = runs[i].send(values[at:at + k])
            except StopIteration as done:
                results[i] = done.value
                del pending[i]
            at += k
    return results  # type: ignore[return-value]
