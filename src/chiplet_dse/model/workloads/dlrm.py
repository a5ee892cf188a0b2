"""DLRM recommendation models RMC1–RMC3 (bottom MLP, embedding tables, interaction, top MLP).

``batch size`` = samples (queries) per inference; every batch-dependent field is linear in it.

Kernel order: bottom MLP (each Linear followed by a ReLU), one ``EmbeddingTable`` kernel for
all tables, ``InteractionArch`` (pairwise dot products), top MLP (ReLU after every Linear but
the last; the final sigmoid is not a kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

from chiplet_dse.model.workloads._records import Record, elementwise_record, linear_record


@dataclass(frozen=True)
class DLRMConfig:
    """Architecture of one DLRM instance."""

    dense_features: int  # width of the dense input to the bottom MLP
    bottom_mlp: tuple[int, ...]  # output widths; the last equals embedding_dim
    num_tables: int
    lookups_per_table: int  # pooling factor: ids looked up per table per sample
    embedding_dim: int
    rows_per_table: int
    top_mlp: tuple[int, ...]  # output widths; the last is the click probability (1)


CONFIGS = {
    "rmc1": DLRMConfig(256, (64, 32), 10, 100, 32, 10_000_000, (256, 64, 1)),
    "rmc2": DLRMConfig(256, (120, 64), 100, 100, 64, 1_000_000, (512, 128, 1)),
    "rmc3": DLRMConfig(2560, (1024, 256, 32), 10, 10, 32, 10_000_000, (512, 256, 1)),
}
INSTANCES = tuple(CONFIGS)

# The original tracer instantiated the tables with 1/1000 of their rows (to fit in memory),
# so the shipped traces record ``layer.params`` = tables × dim × rows / 1000, while
# ``entries-per-table`` (a float) gives the nominal row count. Neither is read by the model;
# we reproduce both as shipped.
TRACED_ROWS_DIVISOR = 1000


def interaction_width(config: DLRMConfig) -> int:
    """Width of the interaction output: the dense vector plus the strictly-lower triangle of
    the (tables + 1)² dot-product matrix of the embedding and dense vectors."""
    features = config.num_tables + 1
    return config.bottom_mlp[-1] + features * (features - 1) // 2


def generate(instance: str, batch_size: int) -> list[Record]:
    """Kernel records of one DLRM inference of ``batch_size`` samples."""
    cfg = CONFIGS[instance]
    batch, tables, dim = batch_size, cfg.num_tables, cfg.embedding_dim
    records: list[Record] = []

    width = cfg.dense_features
    for out_dim in cfg.bottom_mlp:
        records.append(linear_record(batch, width, out_dim))
        records.append(elementwise_record("ReLU", batch * out_dim))
        width = out_dim

    lookups = cfg.lookups_per_table
    records.append({
        "kernel": "EmbeddingTable",
        "input": {"batch-size": batch, "num-tables": tables, "num-lookups": lookups,
                  "params": batch * tables * lookups, "uncached": True},
        "output": {"batch-size": batch, "num-tables": tables, "num-lookups": lookups,
                   "embedding-dim": dim},
        "layer": {"num-tables": tables, "embedding-dim": dim,
                  "entries-per-table": float(cfg.rows_per_table),
                  "params": tables * dim * cfg.rows_per_table // TRACED_ROWS_DIVISOR},
    })  # fmt: skip

    records.append({
        "kernel": "InteractionArch",
        "input": {"batch-size": batch, "dense-features": width, "num-tables": tables,
                  "embedding-dim": dim, "params": batch * (tables * dim + width)},
        "output": {"batch-size": batch, "flat-diag-lower-dense": interaction_width(cfg)},
        "layer": {},
    })  # fmt: skip

    width = interaction_width(cfg)
    for index, out_dim in enumerate(cfg.top_mlp):
        records.append(linear_record(batch, width, out_dim))
        if index < len(cfg.top_mlp) - 1:
            records.append(elementwise_record("ReLU", batch * out_dim))
        width = out_dim
    return records
