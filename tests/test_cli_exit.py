"""synthgen.cli.entry, the console script: after a command that loaded Ray the process ends
once its exit handlers have run, without the interpreter's teardown; otherwise as Python ends."""

import subprocess
import sys
import textwrap
import threading

from synthgen import cli

_PROGRAM = textwrap.dedent("""
    import atexit, sys, types
    import synthgen.cli as C

    class Finalised:  # its __del__ runs in the interpreter's teardown, not before
        def __del__(self):
            sys.__stderr__.write("torn down\\n")

    KEEP = Finalised()
    C.main = lambda: 3
    if sys.argv[1] == "ray":
        sys.modules["ray"] = types.ModuleType("ray")  # as after a command that imported Ray
    atexit.register(lambda: sys.stderr.write("handler ran\\n"))
    sys.stdout.write("no newline")  # left in the buffer: must still come out
    C.entry()
""")


def _run(kind: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROGRAM, kind], capture_output=True, text=True, timeout=120)


def test_after_ray_the_handlers_run_and_the_teardown_does_not():
    p = _run("ray")
    assert p.returncode == 3
    assert p.stdout == "no newline"
    assert "handler ran" in p.stderr
    assert "torn down" not in p.stderr


def test_without_ray_python_ends_as_usual():
    p = _run("none")
    assert p.returncode == 3
    assert p.stdout == "no newline"
    assert "handler ran" in p.stderr
    assert "torn down" in p.stderr  # the reference: the teardown the fast end skips


def test_a_live_worker_thread_keeps_the_usual_exit():
    gate = threading.Event()
    t = threading.Thread(target=gate.wait)  # non-daemon: a normal exit waits for it
    t.start()
    try:
        assert not cli._may_end_now()
    finally:
        gate.set()
        t.join()
    daemon = threading.Thread(target=threading.Event().wait, daemon=True)
    daemon.start()
    assert cli._may_end_now()
