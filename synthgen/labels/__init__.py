"""Labels: EAST score map / RBOX / QUAD geometry / training mask, and a box decoder."""
from .decode import decode
from .east import east_targets, score_map, shrink_quad

__all__ = ["east_targets", "score_map", "shrink_quad", "decode"]
