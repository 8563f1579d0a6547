"""SynthIterable under a real torch.distributed process group (gloo, 2 CPU processes): the
ranks together produce every index exactly once, and each sample is `pipeline.sample(i)`."""

import hashlib

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

N, BLOCK, SEED = 12, 2, 7
PIPE = ("ocr_line", {"line.corpus.words": [1, 1]})


def _digest(item) -> str:
    return hashlib.sha256(item["image"].contiguous().numpy().tobytes()).hexdigest()


def _rank(rank: int, world: int, init: str, out: str) -> None:
    """One process of the group: iterate its share and all-gather (index, pixel digest, text)."""
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        from synthgen.torch import SynthIterable

        ds = SynthIterable(PIPE[0], seed=SEED, n=N, block=BLOCK, **PIPE[1])  # rank/world from the group
        got = [(int(it["index"]), _digest(it), it["instances"][0].text, ds.rank, ds.world_size) for it in ds]
        everyone = [None] * world
        dist.all_gather_object(everyone, got)  # through the gloo group itself
        if rank == 0:
            with open(out, "w") as f:
                f.write(repr(everyone))
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_produce_every_index_once(tmp_path):
    import ast

    from synthgen.pipeline import load_pipeline

    out = tmp_path / "gathered.txt"
    init = f"file://{tmp_path / 'pg_init'}"
    torch.multiprocessing.spawn(_rank, args=(2, init, str(out)), nprocs=2, join=True)
    per_rank = ast.literal_eval(out.read_text())
    assert [{r[3:] for r in rows} for rows in per_rank] == [{(0, 2)}, {(1, 2)}]  # each saw its own rank
    idx = [[r[0] for r in rows] for rows in per_rank]
    # block k -> rank k % 2: rank 0 has 0,1,4,5,8,9; rank 1 has 2,3,6,7,10,11
    assert idx == [[0, 1, 4, 5, 8, 9], [2, 3, 6, 7, 10, 11]]
    assert sorted(idx[0] + idx[1]) == list(range(N))
    pipe = load_pipeline(PIPE[0], seed=SEED, **PIPE[1])
    for rows in per_rank:
        for i, digest, text, _, _ in rows:
            s = pipe.sample(i)
            assert digest == hashlib.sha256(s.image.transpose(2, 0, 1).copy().tobytes()).hexdigest(), i
            assert text == s.instances[0].text
