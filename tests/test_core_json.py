"""The shard writer's fast JSON path (`Sample.to_json(arrays=True)` + orjson) writes the same
bytes as the plain path (`arrays=False`: Python floats from float64 lists)."""

import numpy as np
import orjson

from synthgen.core import F32_EXACT, Instance, Sample

OPT = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY


def test_two_decimal_values_print_the_same_from_float32():
    # every value with two decimals in (-20000, 20000): float32 shortest round trip == float64's
    x = np.round(np.arange(-2_000_000, 2_000_000, dtype=np.float64) / 100, 2)
    assert float(np.abs(x).max()) >= F32_EXACT
    a = orjson.dumps(x, option=OPT).split(b",")
    b = orjson.dumps(x.astype(np.float32), option=OPT).split(b",")
    assert a == b


def _sample(scale: float) -> Sample:
    rng = np.random.default_rng(3)
    insts = [Instance(rng.uniform(-scale, scale, (4, 2)), "ab", rng.uniform(-scale, scale, (2, 4, 2)), "word")
             for _ in range(50)]
    insts.append(Instance(rng.uniform(-scale, scale, (4, 2)), "", None, "photo"))
    return Sample("000000001", np.zeros((4, 4, 3), np.uint8), insts, {"a.b": 0.1}, {"m": [1, 2]})


def test_fast_json_equals_plain_json_small_and_large_coordinates():
    for scale in (3000.0, 1e6):  # float32 path, and the float64 fallback past F32_EXACT
        s = _sample(scale)
        assert orjson.dumps(s.to_json(arrays=True), option=OPT) == orjson.dumps(s.to_json(), option=OPT)


def test_fast_json_equals_plain_json_on_rendered_cards():
    import synthgen

    pipe = synthgen.load_pipeline("passport_td3", **{"augment.strength": 0.6})
    for i in range(6):
        s = pipe.sample(i)
        assert orjson.dumps(s.to_json(arrays=True), option=OPT) == orjson.dumps(s.to_json(), option=OPT)
