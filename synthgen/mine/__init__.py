"""Corner-case mining: find the factor regions a model fails on and render more of them.

`Miner` (miner.py) runs rounds over fresh indices and turns failure statistics per factor
region (stats.py) into a `Draws` bias; `mine` (job.py) is the resumable job behind
`synthgen mine`, writing the mined samples as shards plus report.json and top_errors.png;
`Curriculum` (curriculum.py) updates a training dataset's bias between epochs."""

from .miner import Miner, load_judge  # noqa: F401
