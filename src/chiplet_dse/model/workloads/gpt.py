"""GPT-J-6B: one decoder block, for the prompt (first token) or one decoding step (next token).

``batch size`` is a token count, not a batch: for ``gpt-j-first`` it is the prompt length
(``seq-len``), for ``gpt-j-second`` the context already in the KV cache (``kv_cache``). The
batch is always one prompt; the next-token phase decodes with beam search, one query per beam.

Kernel order (as shipped): Attention, LayerNorm, Linear (fc_in), GeLU, Linear (fc_out),
LayerNorm. The traces model a single block; the model is not told about the 28 layers.
"""

from __future__ import annotations

from chiplet_dse.model.workloads._records import (
    Record,
    attention_record,
    elementwise_record,
    layernorm_record,
    linear_record,
)

HIDDEN = 4096  # n_embd
HEADS = 16  # n_head
FFN = 16384  # n_inner = 4 × n_embd
BEAMS = 4  # beam width of the next-token phase

INSTANCES = ("gpt-j-first", "gpt-j-second")

# Shipped-trace quirk, reproduced for fidelity although the model never reads it: the
# first-token traces record the MLP's *input* ``params`` as 4 (beams) × min(prompt, 1024)
# tokens × width, as if the tracer's real forward pass had run 4 beams on at most 1024 tokens.
TRACED_PROMPT_BEAMS = 4
TRACED_PROMPT_LIMIT = 1024


def generate(instance: str, batch_size: int) -> list[Record]:
    """Kernel records of one GPT-J block; ``batch_size`` is the prompt / KV-cache length."""
    if instance == "gpt-j-first":
        # The whole prompt attends to itself: seq-len tokens, no beams, no cache.
        beam, seq, kv_cache, ln_seq = 0, batch_size, 0, batch_size
        rows = batch_size  # tokens through the MLP

        def traced_params(width: int) -> int:
            return TRACED_PROMPT_BEAMS * min(batch_size, TRACED_PROMPT_LIMIT) * width
    else:
        # One new token per beam attends to a cache of batch_size tokens. The LayerNorm
        # records say seq-len 1 (one token; the model uses beam-size instead when > 0).
        beam, seq, kv_cache, ln_seq = BEAMS, 0, batch_size, 1
        rows = BEAMS

        def traced_params(width: int) -> int:
            return rows * width

    return [
        attention_record(1, beam, seq, HIDDEN, kv_cache=kv_cache, heads=HEADS),
        layernorm_record(1, beam, ln_seq, HIDDEN),
        linear_record(rows, HIDDEN, FFN, input_params=traced_params(HIDDEN)),
        elementwise_record("GeLU", rows * FFN),
        linear_record(rows, FFN, HIDDEN, input_params=traced_params(FFN)),
        layernorm_record(1, beam, ln_seq, HIDDEN),
    ]
