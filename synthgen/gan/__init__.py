"""GeneGAN (Zhou et al. 2017): model, training, inference, card photos. Needs PyTorch."""

from __future__ import annotations

INSTALL_HINT = ("pip install 'synthgen[torch]' (CPU-only machine: first pip install torch "
                "--index-url https://download.pytorch.org/whl/cpu)")


def require_torch(what: str = "the GAN") -> None:
    """Import torch and safetensors, or one line (a UserError) saying how to install them."""
    from ..errors import UserError

    for mod in ("torch", "safetensors"):
        try:
            __import__(mod)
        except ImportError:
            raise UserError(f"{what} needs {'PyTorch' if mod == 'torch' else 'safetensors'}, which is not "
                            f"installed: {INSTALL_HINT}") from None


def missing() -> str | None:
    """The first of torch / safetensors that is not installed (found without importing it), or None."""
    from importlib.util import find_spec

    for mod in ("torch", "safetensors"):
        try:
            if find_spec(mod) is None:
                return mod
        except (ImportError, ValueError):  # a module set to None in sys.modules
            return mod
    return None


def genegan_source(v: str | None) -> str | None:
    """Pydantic check of a photo `source`: genegan without torch is refused when the config is
    read (one line, nothing written), not at the first card with a portrait."""
    if v == "genegan" and (m := missing()):
        raise ValueError(f"photo source 'genegan' needs {'PyTorch' if m == 'torch' else m}, which is not installed: "
                         f"{INSTALL_HINT}; or use source procedural")
    return v
