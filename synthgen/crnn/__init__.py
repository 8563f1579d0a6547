"""A small CRNN + CTC text-line recogniser: the demo model that training, mining and the
audit can ask. `model` (network), `charset` (labels <-> ids, greedy CTC decoding), `data`
(items from synthgen datasets -> batches), `train` (the loop), `judge` (`fails(samples)` for
`synthgen mine --model synthgen.crnn.judge:fails`)."""
