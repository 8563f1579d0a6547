"""synthgen: synthetic training data for OCR, document and face models."""

from . import numerics

numerics.pin()  # before anything imports numpy or OpenCV: the same kernels on every AVX2 machine
from .version import SAMPLE_STREAM, __version__  # noqa: F401 (re-exported; defined in the leaf module)


def load_pipeline(name_or_path: str = "ocr_scene", seed: int | None = None, **overrides):
    """Load a pipeline config (a name in `pipelines/` or a .yaml path) with dotted overrides."""
    from .pipeline import load_pipeline as _load

    return _load(name_or_path, seed=seed, **overrides)


def render(pipeline="ocr_scene", n: int = 1000, out=None, seed=None, shard_size=None, workers=None,
           executor="process", overrides=None, progress=True, ray_address=None, accept_versions=False, split=None):
    """Render `n` samples into WebDataset shards and return the manifest; see `synthgen render --help`.
    `split`: only this part of the config's splits.ratios (`--split`).
    `executor`: "process" (default), "serial" or "ray" (`ray_address` "auto", "ray://host:port",
    or None for $RAY_ADDRESS / a local Ray). `accept_versions`: resume although library versions
    differ from the recorded ones (recorded in manifest.json)."""
    from .run.job import render as _render

    return _render(pipeline, n=n, out=out, seed=seed, shard_size=shard_size, workers=workers,
                   executor=executor, overrides=overrides, progress=progress, ray_address=ray_address,
                   accept_versions=accept_versions, split=split)


def audit_augmentation(source="ocr_line", judge="label", target_error=0.05, n=400, **kw):
    """The bad-augmentation rate against strength and the tuned strength (the audit.json record);
    `source` is a pipeline or a dataset folder. See `synthgen audit --help` and synthgen/audit/run.py.
    (Not `synthgen.audit`: that name is the audit subpackage, whose `audit` function this is.)"""
    from .audit.run import audit as _audit

    return _audit(source, judge=judge, target_error=target_error, n=n, **kw)


def __getattr__(name: str):
    # `synthgen.audit` is the subpackage (synthgen.audit.audit, .judges, ...), imported on first use;
    # `synthgen.ray` the Ray Data source (read_synthetic), which needs Ray only when called
    if name in ("audit", "ray"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def augment_dataset(input, out, strength, copies=1, **kw):
    """Augment a labelled dataset (synthgen shards or an ICDAR 2015 folder) into new shards; returns
    the manifest. See `synthgen augment --help` and synthgen/augment/job.py."""
    from .augment.job import augment_dataset

    return augment_dataset(input, out, strength, copies=copies, **kw)


__all__ = ["SAMPLE_STREAM", "__version__", "audit_augmentation", "augment_dataset", "load_pipeline", "render"]
