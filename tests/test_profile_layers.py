"""scripts/profile_layers.py's aggregation of py-spy raw stacks (the recording itself needs
py-spy and ptrace, so it is not run here)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("profile_layers", ROOT / "scripts" / "profile_layers.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


RAW = """\
<module> (loop.py:9);Pipeline.sample (synthgen/pipeline.py:62);LineRenderer.render (synthgen/renderers/line.py:400) 5
<module> (loop.py:9);Pipeline.sample (synthgen/pipeline.py:62);straight (synthgen/renderers/layout.py:120);0x7f00 (numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so) 3
<module> (loop.py:9);warp (/site/synthgen/renderers/layout.py:430);0x7f01 (cv2/cv2.abi3.so) 4
<module> (loop.py:9);Draws.uniform (synthgen/draws.py:280);ctx_unit (keyed.c:41) 2
<module> (loop.py:9);Draws.uniform (synthgen/draws.py:280);internal_bisect_left (_bisectmodule.c:176) 1
<module> (loop.py:9);encode_sample (synthgen/io/encode.py:24);0x7f02 (libc.so.6) 6
<module> (loop.py:9);0x7f03 (libpython3.11.so.1.0) 1

not a stack line
"""


def test_layers_and_functions_of_raw_stacks():
    m = _module()
    total, by_layer, by_fn = m.aggregate(RAW.splitlines(True))
    assert total == 22
    assert dict(by_layer) == {"Python frames": 5, "numpy C": 3, "OpenCV": 4, "synthgen kernels": 2, "other": 1,
                              "libc / libm": 6, "libpython": 1}
    assert by_fn["renderers/line.py:LineRenderer.render"] == {"Python frames": 5}
    assert by_fn["renderers/layout.py:straight"] == {"numpy C": 3}
    assert by_fn["renderers/layout.py:warp"] == {"OpenCV": 4}  # an installed synthgen's path too
    assert by_fn["draws.py:Draws.uniform"] == {"synthgen kernels": 2, "other": 1}
    assert by_fn["io/encode.py:encode_sample"] == {"libc / libm": 6}
    assert by_fn["(outside synthgen)"] == {"libpython": 1}
    text = m.report(total, by_layer, by_fn, top=3)
    assert "| libc / libm | 27.3% |" in text and text.count("| `") == 3
