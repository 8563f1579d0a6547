"""A job at real scale, end to end (issue 23): render, kill -9 halfway, resume, then check.

    python scripts/end_to_end.py ocr_line --n 1e6 --workers 2 --out /tmp/e2e_line
    python scripts/end_to_end.py ocr_scene --n 100000 --workers 2 --out /tmp/e2e_scene

Runs the real CLI (`synthgen render`, `synthgen check`) as child processes and samples the peak
RSS of the whole process tree (the driver and every worker, each process's own peak) once a
second. The kill: when half the shards are in the output folder, SIGKILL to the render's process
group, then the same command again resumes. "Time lost" is the resumed job's wall time minus the
share of the uninterrupted rate its remaining samples would take: the shards in flight at the
kill, re-rendered, plus the second start-up and the resume's shard verification. Prints one
JSON report (and writes it with --report).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def _tree_rss(p: psutil.Process) -> dict[int, int]:
    out = {}
    try:
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for q in procs:
        try:
            out[q.pid] = q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return out


def _listed(out: Path) -> int:
    """Shards manifest.json lists as finished (it is replaced atomically)."""
    try:
        return len(json.loads((out / "manifest.json").read_text()).get("shards", []))
    except (OSError, ValueError):
        return 0


def run(cmd: list[str], kill_at_shards: int | None = None, out: Path | None = None) -> dict:
    """Run cmd in its own process group; sample RSS each second; SIGKILL the group once
    `kill_at_shards` shards exist in `out`."""
    t0 = time.perf_counter()
    fo, fe = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # pipes would fill and block
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=fo, stderr=fe, text=True)
    ps = psutil.Process(proc.pid)
    peak_worker = peak_driver = peak_total = 0
    killed = False
    while proc.poll() is None:
        rss = _tree_rss(ps)
        if rss:
            peak_driver = max(peak_driver, rss.get(proc.pid, 0))
            peak_worker = max([peak_worker] + [v for k, v in rss.items() if k != proc.pid])
            peak_total = max(peak_total, sum(rss.values()))
        if kill_at_shards is not None and out is not None and not killed:
            if _listed(out) >= kill_at_shards:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
        time.sleep(1.0)
    proc.wait()
    fo.seek(0), fe.seek(0)
    stdout, stderr = fo.read(), fe.read()
    return {"rc": proc.returncode, "wall_s": time.perf_counter() - t0, "killed": killed,
            "peak_rss_driver_mb": peak_driver / 2**20, "peak_rss_worker_mb": peak_worker / 2**20,
            "peak_rss_tree_mb": peak_total / 2**20, "stderr_tail": stderr.strip().splitlines()[-3:],
            "stdout_tail": stdout.strip().splitlines()[-3:], "stdout": stdout}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pipeline")
    ap.add_argument("--n", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-kill", action="store_true", help="render once, without the kill and resume")
    ap.add_argument("--report")
    a = ap.parse_args()
    out = Path(a.out)
    if out.exists():
        sys.exit(f"{out} exists; give a new folder")
    n = int(float(a.n))
    render = ["synthgen", "render", a.pipeline, "--n", str(a.n), "--workers", str(a.workers),
              "--out", str(out), "-q"]
    shard_size = None
    rep: dict = {"pipeline": a.pipeline, "n": n, "workers": a.workers, "cpu": os.cpu_count(),
                 "machine": f"{os.uname().nodename} {os.uname().machine}"}
    if a.no_kill:
        rep["render"] = run(render)
    else:
        # shard count from the config: ask the pipeline (cheap, in this process)
        from synthgen.pipeline import load_pipeline

        shard_size = int(load_pipeline(a.pipeline).cfg.output.shard_size)
        n_shards = -(-n // shard_size)
        rep["render_killed"] = run(render, kill_at_shards=n_shards // 2, out=out)
        rep["shards_at_kill"] = _listed(out)
        rep["render_resumed"] = run(render)
        done_first = rep["shards_at_kill"] * shard_size
        rate = done_first / rep["render_killed"]["wall_s"]
        rep["time_lost_s"] = rep["render_resumed"]["wall_s"] - (n - done_first) / rate
        rep["wall_s_total"] = rep["render_killed"]["wall_s"] + rep["render_resumed"]["wall_s"]
        rep["samples_per_s"] = n / rep["wall_s_total"]
    shards = sorted(out.glob("shard-*.tar"))
    rep["shards"] = len(shards)
    rep["bytes"] = sum(s.stat().st_size for s in shards)
    rep["bytes_per_sample"] = rep["bytes"] / n
    man = json.loads((out / "manifest.json").read_text())
    rep["manifest_status"] = man.get("status")
    chk = run(["synthgen", "check", str(out), "--json", "-q"])
    rep["check"] = {k: chk[k] for k in ("rc", "wall_s", "peak_rss_tree_mb", "stderr_tail")}
    for r in rep.values():
        if isinstance(r, dict):
            r.pop("stdout", None)
    if a.report:  # the check's whole report (findings and all) beside ours
        Path(a.report).with_suffix(".check.json").write_text(chk["stdout"])
    try:
        found = json.loads(chk["stdout"])
        rep["check"]["summary"] = {k: v for k, v in found.items() if not isinstance(v, (list, dict))}
        rep["check"]["counts"] = found.get("counts") or {c: len(f) for c, f in found.get("findings", {}).items()}
    except (ValueError, AttributeError):
        rep["check"]["stdout_tail"] = chk["stdout_tail"]
    text = json.dumps(rep, indent=2)
    print(text)
    if a.report:
        Path(a.report).write_text(text + "\n")


if __name__ == "__main__":
    main()
