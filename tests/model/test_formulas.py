"""Every kernel formula (spec §3) against values worked out by hand, with and without sharding.

Each expected tuple is (FLOPs, input elements, weight elements, output elements); the arithmetic
is written next to it.
"""

from __future__ import annotations

import numpy as np
import pytest

from chiplet_dse.model.formulas import DATA, WEIGHTS, compile_kernel
from chiplet_dse.model.trace import parse_kernel


def counts(record, w=1.0, batch_cut=False, cached=0.0, sram=8 * 2**20):
    ck = compile_kernel(parse_kernel(record, 0, "test"), batch_cut)
    wa = np.array([[w]])
    if ck.stateful:
        out = ck.formula(wa, np.array([[cached]]), np.array([sram]), 2)
    else:
        out = ck.formula(wa)
    return tuple(float(np.asarray(v).reshape(-1)[0]) for v in out), ck.strategy


def rec(kernel, inp, out=None, layer=None):
    return {"kernel": kernel, "input": inp, "output": out or {}, "layer": layer or {}}


LINEAR = rec("Linear", {"batch-size": 512, "hidden-dim": 256}, {"output-dim": 64})


def test_linear():
    # F = 2*512*256*64, D = 512*256, W = 256*64 + 64, O = 512*64
    assert counts(LINEAR) == ((16777216, 131072, 16448, 32768), WEIGHTS)
    # weights cut, w = 1/4: 16 output columns per chiplet, the whole input read
    assert counts(LINEAR, 0.25) == ((4194304, 131072, 4112, 8192), WEIGHTS)
    # batch cut, w = 1/4: 128 rows per chiplet, all weights read
    assert counts(LINEAR, 0.25, batch_cut=True) == ((4194304, 32768, 16448, 8192), DATA)


STEM = rec(
    "Conv2d",
    {"batch-size": 1, "in-channels": 3, "img-height": 224, "img-width": 224},
    {"out-channels": 64, "img-height": 112, "img-width": 112},
    {"kernel": [7, 7], "stride": [2, 2], "padding": [3, 3]},
)


def test_conv2d_resnet_stem():
    # spec §3.2: Npos = 112*112, Z = 2*(6104 + 6104 + 384) = 25184,
    # F = (2*49*12544 - 25184)*3*64; D = 3*224*224; W = 49*64*3; O = 64*112*112
    assert counts(STEM) == ((231192576, 150528, 9408, 802816), WEIGHTS)
    # batch cut by 1/2: half an image per chiplet
    assert counts(STEM, 0.5, batch_cut=True) == ((115596288, 75264, 9408, 401408), DATA)


def test_conv2d_3x3_same_padding():
    conv = rec(
        "Conv2d",
        {"batch-size": 1, "in-channels": 64, "img-height": 56, "img-width": 56},
        {"out-channels": 64, "img-height": 56, "img-width": 56},
        {"kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]},
    )
    # spec §3.2: F = (18*3136 - 1336)*4096
    assert counts(conv)[0][0] == 225738752


def test_conv2d_asymmetric_padding_uses_the_column_term():
    conv = rec(
        "Conv2d",
        {"batch-size": 1, "in-channels": 2, "img-height": 8, "img-width": 8},
        {"out-channels": 4, "img-height": 8, "img-width": 8},
        {"kernel": [1, 3], "stride": [1, 1], "padding": [0, 1]},
    )
    # Npos = 8*8; row term 0; column term 1*1 * (2*(8-3+1)/1) = 12; no corners; Z = 24.
    # F = (6*64 - 24)*2*4 = 2880; D = 2*64; W = 3*4*2; O = 4*64
    assert counts(conv)[0] == (2880, 128, 24, 256)


def test_batch_norm_weights_cut_keeps_flops_whole():
    bn = rec(
        "BatchNorm",
        {"batch-size": 1, "in-channels": 64, "img-height": 112, "img-width": 112},
        {"out-channels": 64, "img-height": 112, "img-width": 112},
        {"features": 128},
    )
    # F = 1*4*128*(112*112); D = O = 64*12544; W = 2*128
    assert counts(bn) == ((6422528, 802816, 256, 802816), DATA)
    # weights cut halves channels (data, output) but not FLOPs or weights (spec §6)
    assert counts(bn, 0.5)[0] == (6422528, 401408, 256, 401408)
    # batch cut halves everything but the weights
    assert counts(bn, 0.5, batch_cut=True)[0] == (3211264, 401408, 256, 401408)


def test_group_norm():
    gn = rec(
        "GroupNorm",
        {"batch-size": 2, "in-channels": 320, "img-height": 128, "img-width": 128},
        {"out-channels": 320, "img-height": 128, "img-width": 128},
        {"num_channels": 320, "num_groups": 32},
    )
    # F = 2*9*320*16384; D = O = 2*320*16384; W = 2*320
    assert counts(gn) == ((94371840, 10485760, 640, 10485760), DATA)


def test_layer_norm_prefill_and_decode():
    prefill = rec(
        "LayerNorm",
        {"batch-size": 1, "beam-size": 0, "seq-len": 1024, "hidden-dim": 4096},
        layer={"weights": 8192},
    )
    # F = 11*1024*4096 (no batch factor); D = O = 1024*4096; W = 8192
    assert counts(prefill) == ((46137344, 4194304, 8192, 4194304), DATA)
    decode = rec(
        "LayerNorm",
        {"batch-size": 1, "beam-size": 4, "seq-len": 1, "hidden-dim": 4096},
        layer={"weights": 8192},
    )
    # beam > 0 replaces the sequence: F = 11*4*4096, D = O = 4*4096
    assert counts(decode)[0] == (180224, 16384, 8192, 16384)
    # sharding scales the beams: 2 of them per chiplet
    assert counts(decode, 0.5)[0] == (90112, 8192, 8192, 8192)


@pytest.mark.parametrize(
    ("kind", "flops_per_element"),
    [("Add", 1), ("ReLU", 1), ("GeLU", 38), ("SiLU", 23), ("Softmax", 25)],
)
def test_elementwise(kind, flops_per_element):
    k = rec(kind, {"elements": 1000}, {"elements": 1000})
    assert counts(k) == ((1000 * flops_per_element, 1000, 0, 1000), DATA)
    assert counts(k, 0.1)[0] == (100 * flops_per_element, 100, 0, 100)


def test_pooling():
    maxpool = rec(
        "MaxPool2d",
        {"batch-size": 1, "in-channels": 64, "img-height": 112, "img-width": 112},
        {"out-channels": 64, "img-height": 56, "img-width": 56},
    )
    # no FLOPs; D = 64*112*112; O = 64*56*56 (output channels taken from the input)
    assert counts(maxpool) == ((0, 802816, 0, 200704), DATA)
    avgpool = rec(
        "AdaptiveAvgPool2d",
        {"batch-size": 1, "in-channels": 512, "img-height": 7, "img-width": 7},
        {"out-channels": 512, "img-height": 1, "img-width": 1},
    )
    # F = D = 512*7*7; O = 512*1*1
    assert counts(avgpool) == ((25088, 25088, 0, 512), DATA)


EMBEDDING = rec(
    "EmbeddingTable",
    {"batch-size": 512, "num-tables": 10, "num-lookups": 100, "uncached": True},
    {"batch-size": 512, "num-tables": 10},
    {"embedding-dim": 32},
)


def test_embedding_table():
    # F = 512*10*100*32; D = 512*10*100 indices + 512*10*100*32 rows; O = 512*10*32
    assert counts(EMBEDDING) == ((16384000, 16896000, 0, 163840), DATA)
    # weights cut shards tables: 2 of 10 per chiplet
    assert counts(EMBEDDING, 0.2)[0] == (3276800, 3379200, 0, 32768)


def test_interaction_arch():
    k = rec(
        "InteractionArch",
        {"batch-size": 512, "dense-features": 32, "num-tables": 10, "embedding-dim": 32},
        {"flat-diag-lower-dense": 87},
    )
    # F = 2*11*32*11 (no batch factor); D = 512*(10*32 + 32); O = 512*87
    assert counts(k) == ((7744, 180224, 0, 44544), WEIGHTS)
    # weights cut divides FLOPs only
    assert counts(k, 0.25)[0] == (1936, 180224, 0, 44544)
    # batch cut divides the batch, FLOPs stay whole (sharding_dim = 1)
    assert counts(k, 0.25, batch_cut=True) == ((7744, 45056, 0, 11136), DATA)


def attention(beam, seq, kv, heads=16, out_dim=4096, hidden=4096):
    return rec(
        "Attention",
        {
            "batch-size": 1, "beam-size": beam, "seq-len": seq, "hidden-dim": hidden,
            "kv_cache": kv, "uncached": True,
        },
        {},
        {"num-heads": heads, "output-dim": out_dim},
    )  # fmt: skip


def test_attention_prefill():
    # dh = 256; F = 4*(2*1024*4096*256)*16 + (2*1024*256*1024)*16 + (32*1024*1024)*16
    # D = 1024*4096; W = 4*4096*256*16; O = 1024*4096 + 2*1024*4096 (output + KV write)
    assert counts(attention(0, 1024, 0)) == (
        (146565758976, 4194304, 67108864, 12582912),
        WEIGHTS,
    )


def test_attention_decode_reads_the_kv_cache_as_weights():
    # kv > 0: queries = 4 beams, keys = 1024 cached tokens
    # F = 4*(2*4*4096*256)*16 + (2*4*256*1024)*16 + (32*4*1024)*16
    # W = 4*4096*256*16 + 2*1024*(256*16); O = 4*4096 + 2*4*4096
    assert counts(attention(4, 0, 1024))[0] == (572522496, 16384, 75497472, 49152)


def test_attention_kv_cache_alternative_spelling():
    k = attention(4, 0, 1024)
    k["input"]["kv-cache"] = k["input"].pop("kv_cache")
    assert counts(k)[0] == (572522496, 16384, 75497472, 49152)


def test_attention_head_dim_truncates_like_the_original():
    # (320 w) / (8 w) lands just below 40 for this w and truncates to 39 (spec §3.10).
    w = 0.8134403209628887
    k = attention(0, 4096, 0, heads=8, out_dim=320, hidden=320)
    out = counts(k, w)[0][3]
    heads = 8 * w
    assert out == pytest.approx(3 * 4096 * (39 * heads), rel=1e-15)


def test_gcn_conv():
    k = rec(
        "GCNConv",
        {
            "num-nodes": 101, "num-edges": 1000,
            "curve-fit-vals": {"1": [[1.0, 0.0, 0.0, 0.0, 0.0]]},
        },
        {"embedding-dim": 4},
    )  # fmt: skip
    # Flat access curve phi = 1 at each of the 100 points. SRAM 400 B holds 400/4/2 = 50
    # embeddings (hot set); the 80 cached bytes held 10, spread over [1, 101]: 5 fall below 50,
    # so 45 hot embeddings are first-touch misses. Uncached accesses: 100 - 50.
    # D = (45 + 50)*4 + CSR read ((101 + 1000)*2 + 1000); O = CSR write 101*4; F = 2*1000*4
    assert counts(k, cached=80.0, sram=400.0) == ((8000, 3582, 0, 404), DATA)
    # w = 1/2: edges, node share and uncached accesses halve; first touches do not
    # D = (45 + 25)*4 + ((50.5 + 500)*2 + 500)
    assert counts(k, 0.5, cached=80.0, sram=400.0)[0] == (4000, 1881, 0, 202)


def test_uncached_is_key_presence_only():
    k = dict(EMBEDDING)
    k["input"] = {**EMBEDDING["input"], "uncached": False}
    assert compile_kernel(parse_kernel(k, 0, "t"), False).uncached
