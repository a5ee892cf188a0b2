"""A literal, slow re-statement of the CASCADE model from the specification (test oracle).

Written for clarity, not speed: one Python object per chiplet, one deep-copied record per
shard, scipy.optimize.minimize for every starting point, statistics.variance for the latency
score, np.sum over per-chiplet arrays. The fast engine must give the same bits.
"""

from __future__ import annotations

import copy
import statistics

import numpy as np
from scipy.optimize import LinearConstraint, minimize

from chiplet_dse.model.chiplets import CHIPLET_TYPES, DEFAULT_LIBRARY
from chiplet_dse.model.trace import FUSABLE

LEAK, KAPPA = 3 / 100, 1.2


class Chiplet:
    def __init__(self, name, cid, lib):
        c = lib[name]
        self.name, self.id, self.lib = name, cid, c
        self.sram = c.sram_mb * (1024**2)
        self.bw_sat = c.bw_sat_gbps * (1024**3)
        self.pc, self.pm, self.pb = 0.5 * c.tdp_w, 0.3 * c.tdp_w, 0.2 * c.tdp_w
        self.cached, self.maxc, self.warm, self.avail = 0, 0, False, 0
        self.db = {}

    def rate(self, kernel):
        return self.lib.rate_flops(kernel)

    def checkpoint(self):
        self.saved = (self.maxc, self.cached, self.avail)

    def replay(self):
        self.maxc, self.cached, self.avail = self.saved

    # --- formulas, spec §3 -----------------------------------------------------------------
    def formula(self, k):
        i, o, ly = k["input"], k["output"], k.get("layer", {})
        t = k["kernel"]
        if t == "Linear":
            b, h, od = i["batch-size"], i["hidden-dim"], o["output-dim"]
            return 2 * b * h * od, b * h, h * od + od, b * od
        if t == "Conv2d":
            b, ci, hh, ww = i["batch-size"], i["in-channels"], i["img-height"], i["img-width"]
            co, ho, wo = o["out-channels"], o["img-height"], o["img-width"]
            ks, st, pd = ly["kernel"], ly["stride"], ly["padding"]
            fk = 2 * ks[0] * ks[1]
            kp = int((hh + pd[0] * 2 - ks[0]) / st[0] + 1) * int(
                (ww + pd[1] * 2 - ks[1]) / st[1] + 1
            )
            row = 0
            for idx, over in enumerate(reversed(range(1, pd[0] + 1))):
                if idx % st[0] == 0:
                    row += ks[1] * over
            row *= 2 * (hh - ks[0] + 1) / st[1]
            if pd[0] == pd[1] and ks[0] == ks[1]:
                col = row
            else:
                col = 0
                for idx, over in enumerate(reversed(range(1, pd[1] + 1))):
                    if idx % st[1] == 0:
                        col += ks[0] * over
                col *= 2 * (ww - ks[1] + 1) / st[0]
            cor = 0
            for a, oe in enumerate(reversed(range(1, pd[0] + 1))):
                if a % st[0] == 0:
                    for c2, ot in enumerate(reversed(range(1, pd[1] + 1))):
                        if c2 % st[1] == 0:
                            cor += ks[0] * ks[1] - (ks[0] - oe) * (ks[1] - ot)
            cor *= 4
            pz = 2 * (row + col + cor)
            flops = (fk * kp - pz) * ci * co
            return (b * flops, b * ci * hh * ww, (ks[0] * ks[1]) * co * ci, b * co * ho * wo)
        if t in ("BatchNorm", "GroupNorm"):
            b, ci, hh, ww = i["batch-size"], i["in-channels"], i["img-height"], i["img-width"]
            co, ho, wo = o["out-channels"], o["img-height"], o["img-width"]
            fe = ly["features"] if t == "BatchNorm" else ly["num_channels"]
            f = 4 if t == "BatchNorm" else 9
            return b * f * fe * (hh * ww), b * ci * hh * ww, 2 * fe, b * co * ho * wo
        if t == "LayerNorm":
            b, beam, s, dm = i["batch-size"], i["beam-size"], i["seq-len"], i["hidden-dim"]
            if beam > 0:
                s = beam
            io = b * s * dm
            return 11 * s * dm, io, ly["weights"], io
        if t in ("Add", "ReLU", "GeLU", "SiLU", "Softmax"):
            e = i["elements"]
            f = {"Add": 1, "ReLU": 1, "GeLU": 38, "SiLU": 23, "Softmax": 25}[t]
            return (e if f == 1 else f * e), e, 0, e
        if t in ("MaxPool2d", "AdaptiveAvgPool2d"):
            b, ci, hh, ww = i["batch-size"], i["in-channels"], i["img-height"], i["img-width"]
            ho, wo = o["img-height"], o["img-width"]
            out = b * (ci * wo * ho)
            if t == "MaxPool2d":
                return 0, b * (ci * hh * ww), 0, out
            return b * ci * hh * ww, b * ci * hh * ww, 0, out
        if t == "EmbeddingTable":
            b, tt, lk, e = i["batch-size"], i["num-tables"], i["num-lookups"], ly["embedding-dim"]
            return b * tt * lk * e, (b * tt * lk) + (b * tt * lk * e), 0, b * tt * e
        if t == "InteractionArch":
            b, d, tt, e = i["batch-size"], i["dense-features"], i["num-tables"], i["embedding-dim"]
            return (
                (2 * (tt + 1) * e * (tt + 1)) * i["sharding_dim"],
                b * (tt * e + d),
                0,
                b * o["flat-diag-lower-dense"],
            )
        if t == "Attention":
            b, beam, s, dm = i["batch-size"], i["beam-size"], i["seq-len"], i["hidden-dim"]
            kv = i["kv_cache"] if "kv_cache" in i else i["kv-cache"]
            nh, do = ly["num-heads"], ly["output-dim"]
            hd = int(do / nh) if nh > 0 else 0
            s2 = s
            if kv > 0:
                s, s2 = beam, kv
            fl = (
                b * 4 * (2 * s * dm * hd) * nh + b * (2 * s * hd * s2) * nh + b * (32 * s * s2) * nh
            )
            w = 4 * dm * hd * nh + 2 * b * kv * (hd * nh)
            out = b * s * (hd * nh) + 2 * b * s * (hd * nh)
            return fl, b * s * dm, w, out
        if t == "GCNConv":
            n, ne = i["num-nodes"], i["num-edges"]
            cf = i["curve-fit-vals"]["1"][0]
            e, sd = o["embedding-dim"], ly["sharding_dim"]
            maxc = int(self.sram / e / 2)
            prev = int(self.cached / e / 2)
            hot = int(min(maxc, n))
            key = tuple(cf)
            if key not in self.db:
                x = np.log(np.linspace(1, int(n), int(n) - 1))
                fr = cf[0] * np.exp(-cf[1] * x) + cf[2] * x + cf[3] * (x**2) + cf[4]
                self.db[key] = (fr, np.sum(fr))
            fr, tot = self.db[key]
            unc = (tot - np.sum(fr[:hot])) * sd
            pre = len(np.where(np.linspace(1, n, prev) < hot)[0])
            first = hot - pre
            off = (first + unc) * e
            csr_r = ((n * sd) + ne) * (4 / 2) + ne
            return 2 * ne * e, off + csr_r, 0, (n * sd) * e
        raise ValueError(t)

    def analytics(self, shard, fuse_prev, fuse_next):
        fl, d, w, o = self.formula(shard)
        d, w, o = d * 2, w * 2, o * 2
        if "uncached" in shard["input"]:
            self.cached = 0
        if fuse_prev:
            d *= LEAK
        else:
            d = (d - self.cached) + (d * LEAK)
            if d < 0:
                d = 0
        self.cached = min(o, self.sram)
        if self.warm:
            self.maxc = max(self.maxc, KAPPA * (self.cached + w))
        else:
            sub = min(self.avail, w)
            self.avail -= sub
            w -= sub
        if fuse_next:
            o *= LEAK
        return fl, d, w, o

    def perf(self, fl, kernel, volume, bw):
        eff = min(bw, self.bw_sat)
        c = fl / self.rate(kernel)
        m = volume / eff
        t = c if c > m else m

        def f(x):
            return -1 * (x - 1) ** 2 + 1

        return t, t * (self.pc * f(c / t) + self.pm * f(m / t) + self.pb)


def _scale(part, key, frac):
    # The original scales output-side copies too; the formulas never read most of them.
    if key in part:
        part[key] *= frac


def shard(kernel, cut, frac):
    k = copy.deepcopy(kernel)
    t, i, o, ly = k["kernel"], k["input"], k["output"], k.setdefault("layer", {})
    strategy = "data"
    if t in ("Conv2d", "Linear") and cut == "weights":
        key = "out-channels" if t == "Conv2d" else "output-dim"
        o[key] *= frac
        if key in ly:
            ly[key] *= frac
        strategy = "weights"
    elif t == "EmbeddingTable" and cut == "weights":
        _scale(i, "num-tables", frac)
        _scale(o, "num-tables", frac)
    elif t == "InteractionArch":
        if cut == "weights":
            i["sharding_dim"] = frac
            strategy = "weights"
        else:
            _scale(i, "batch-size", frac)
            _scale(o, "batch-size", frac)
            i["sharding_dim"] = 1
    elif t in ("BatchNorm", "GroupNorm", "MaxPool2d", "AdaptiveAvgPool2d") and cut == "weights":
        _scale(i, "in-channels", frac)
        if "out-channels" in o:
            _scale(o, "out-channels", frac)
    elif cut == "batch" and t in (
        "Conv2d",
        "Linear",
        "EmbeddingTable",
        "BatchNorm",
        "GroupNorm",
        "MaxPool2d",
        "AdaptiveAvgPool2d",
    ):
        _scale(i, "batch-size", frac)
        _scale(o, "batch-size", frac)
    if t == "Attention":
        _scale(ly, "num-heads", frac)
        _scale(ly, "output-dim", frac)
        strategy = "weights"
    if t == "LayerNorm":
        for part in (i, o):
            _scale(part, "seq-len", frac)
            _scale(part, "beam-size", frac)
    if t == "GCNConv":
        _scale(i, "num-edges", frac)
        _scale(o, "num-edges", frac)
        ly["sharding_dim"] = frac
        i["uncached"] = True
    if t in ("Add", "ReLU", "GeLU", "SiLU", "Softmax"):
        _scale(i, "elements", frac)
        _scale(o, "elements", frac)
    return k, strategy


class System:
    def __init__(self, counts, trace, cut, goal, lib=DEFAULT_LIBRARY):
        names = [n for n, c in zip(CHIPLET_TYPES, counts, strict=True) for _ in range(c)]
        self.chips = [Chiplet(n, i, lib) for i, n in enumerate(names)]
        self.types = [t for t, c in zip(CHIPLET_TYPES, counts, strict=True) if c > 0]
        self.inst = [c for c in counts if c > 0]
        self.cut, self.goal = cut, goal
        self.bw = 64 * 16 * (1024**3)
        self.blocks = []
        cur = []
        for idx, k in enumerate(trace):
            cur.append(k)
            if idx + 1 == len(trace) or trace[idx + 1]["kernel"] not in FUSABLE:
                self.blocks.append(cur)
                cur = []

    def expand(self, ratio):
        # The original's np.dot; the reference numbers come from a build that does not fuse
        # the multiply-adds, i.e. this sequential sum.
        total = 0.0
        for r, n in zip(ratio, self.inst, strict=True):
            total = total + float(r) * n
        return [ratio[self.types.index(c.name)] / np.float64(total) for c in self.chips]

    def kernel(self, k, dist, fp, fn):
        n = len(self.chips)
        flops, priv, shared = np.zeros(n), np.zeros(n), np.zeros(n)
        vols = []
        for c, w in zip(self.chips, dist, strict=True):
            s, strat = shard(k, self.cut, w)
            fl, d, wt, o = c.analytics(s, fp, fn)
            flops[c.id] = fl
            if strat == "weights":
                shared[c.id], priv[c.id] = d, wt + o
            else:
                shared[c.id], priv[c.id] = wt, d + o
            vols.append(shared[c.id] + priv[c.id])
        total = np.max(shared) + np.sum(priv)
        times, energies = np.zeros(n), np.zeros(n)
        rec = []
        for c, w, v in zip(self.chips, dist, vols, strict=True):
            if v == 0 or w == 0:
                t, e = 0, 0
            else:
                t, e = c.perf(flops[c.id], k["kernel"], v, v / total * self.bw)
            times[c.id], energies[c.id] = t, e
            rec.append((t, e))
        return rec, np.max(times), np.sum(energies)

    def block(self, b, dist):
        out = []
        for j, k in enumerate(self.blocks[b]):
            out.append(self.kernel(k, dist, j != 0, j + 1 != len(self.blocks[b])))
        return out

    def score(self, perf):
        lat = [0] * len(self.chips)
        en = [0] * len(self.chips)
        for rec, _, _ in perf:
            for i, (t, e) in enumerate(rec):
                lat[i] += t
                en[i] += e
        if self.goal == "latency":
            if len(self.chips) > 1:
                return statistics.variance(np.array(lat) / sum(lat)) * (10**6)
            return 0
        return np.sum(en) * (10**6)

    def characterise(self):
        g = len(self.types)
        best = [[1 / g] * g for _ in self.blocks]
        for _ in range(3):
            np.random.seed(42)
            for c in self.chips:
                c.warm, c.maxc = True, 0
            for b in range(len(self.blocks)):
                self.block(b, self.expand(best[b]))
            for c in self.chips:
                c.warm = False
                c.avail = max(c.sram - c.maxc, 0)
            for b in range(len(self.blocks)):
                for c in self.chips:
                    c.checkpoint()
                starts = [best[b]] + [[1.0 if j == i else 0.0 for j in range(g)] for i in range(g)]
                r = np.random.rand(g)
                starts.append(r / sum(r))
                best_score = np.inf

                def fun(x, b=b):
                    for c in self.chips:
                        c.replay()
                    return self.score(self.block(b, self.expand(x)))

                for x0 in starts:
                    res = minimize(
                        fun,
                        x0,
                        bounds=[(0.0, 1.0)] * g,
                        constraints=[LinearConstraint(np.ones(g), 1.0, 1.0)],
                    )
                    for c in self.chips:
                        c.replay()
                    s = self.score(self.block(b, self.expand(res.x)))
                    if s < best_score:
                        best_score, best[b] = s, res.x
                for c in self.chips:
                    c.replay()
                self.block(b, self.expand(best[b]))
        results = []
        for warm in (True, False):
            for c in self.chips:
                if warm:
                    c.warm, c.maxc = True, 0
                else:
                    c.warm, c.avail = False, max(c.sram - c.maxc, 0)
            for b in range(len(self.blocks)):
                arr = np.array(self.expand(best[b]))
                arr = np.where(arr < (0.05 / 100), 0, arr)
                dist = arr / np.sum(arr)
                perf = self.block(b, dist)
                if not warm:
                    results.extend(perf)
        return results, best


def evaluate_literal(counts, workloads, goal="latency"):
    """``workloads``: list of (model, kernel_records, weighted_score). Returns (ms, mJ)."""
    exe, energy = [], []
    for model, records, ws in workloads:
        system = System(counts, records, "batch" if model == "dnn" else "weights", goal)
        results, _ = system.characterise()
        for _ in range(ws):
            for _, t, e in results:
                exe.append(t)
                energy.append(e)
    return sum(exe) * 1000, sum(energy) * 10**3
