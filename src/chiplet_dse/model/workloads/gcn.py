"""Three-layer GCN (PyG ``GCNConv``) full-graph inference on the OGB node-property datasets.

``batch size`` = the hidden embedding width of the GCN (both hidden layers); the graph is
always processed whole. Each ``GCNConv`` is split, as in PyG, into its dense ``Linear``
transform (no bias) and the sparse aggregation (the ``GCNConv`` kernel), then ReLU; the last
layer outputs class scores followed by a Softmax.

Dataset constants are public facts plus the CASCADE access-frequency curve fit
``φ(x) = a·exp(−b·x) + c·x + d·x² + e`` (x = ln rank) of each graph, which the model uses to
estimate embedding-cache hit rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from chiplet_dse.model.workloads._records import Record, elementwise_record, linear_record


@dataclass(frozen=True)
class GraphDataset:
    """One OGB node-property dataset as the CASCADE traces describe it."""

    num_nodes: int
    num_edges: int  # adjacency non-zeros as traced (arxiv: edges + self-loops)
    features: int  # input node-feature width
    classes: int  # output width
    curve_fit: tuple[float, float, float, float, float]  # (a, b, c, d, e)


DATASETS = {
    "ogbn-arxiv": GraphDataset(
        169_343, 1_335_586, 128, 40,
        (394.9588083169758, 0.5782114952474471, -10.144206608474557,
         0.13372330948541375, 102.56169208870766),
    ),
    "ogbn-products": GraphDataset(
        2_449_029, 126_167_053, 100, 47,
        (27450.493757270506, 0.19215003685552035, 1251.546298491227,
         -33.54451763820824, -12780.616885846082),
    ),
    "ogbn-proteins": GraphDataset(
        132_534, 79_122_504, 8, 2,
        (464.4834567857198, 1.0109205186991772, -704.3914542221726,
         4.259646583149385, 7700.004828968672),
    ),
}  # fmt: skip
INSTANCES = tuple(DATASETS)


def gcnconv_record(data: GraphDataset, embedding_dim: int) -> Record:
    """The sparse aggregation of one GCN layer producing ``embedding_dim`` features per node.

    Shipped-trace quirk (reproduced deliberately; the model's curve sum and CSR terms depend
    on it): ``num-nodes`` is one less than the dataset's node count, as if taken from the
    largest node id, while the dense kernels around it use the true count.
    """
    nodes = data.num_nodes - 1
    return {
        "kernel": "GCNConv",
        "input": {
            "num-nodes": nodes,
            "num-edges": data.num_edges,
            "curve-fit-vals": {"1": [list(data.curve_fit)]},
            "embedding-dim": embedding_dim,
        },
        "output": {"num-nodes": nodes, "num-edges": data.num_edges, "embedding-dim": embedding_dim},
        "layer": {},
    }


def generate(instance: str, batch_size: int) -> list[Record]:
    """Kernel records of one full-graph GCN inference with hidden width ``batch_size``."""
    data = DATASETS[instance]
    nodes, hidden = data.num_nodes, batch_size
    records: list[Record] = []
    width = data.features
    for out_dim, activation in ((hidden, "ReLU"), (hidden, "ReLU"), (data.classes, "Softmax")):
        records.append(linear_record(nodes, width, out_dim, bias=False))
        records.append(gcnconv_record(data, out_dim))
        records.append(elementwise_record(activation, nodes * out_dim))
        width = out_dim
    return records
