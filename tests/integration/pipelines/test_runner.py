"""The runner on a real kernel through papermill: results store, RO-Crate, cache, failures."""

import json
import time

import nbformat
import pytest

import genesis_lab as gl
from genesis_lab.errors import ParameterError, RunFailedError
from genesis_lab.pipelines import get_challenge, leaderboard, run, verify
from genesis_lab.settings import get_settings


def stored_dirs():
    folder = get_settings().results_root / "demo"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_run_stores_notebook_metrics_and_crate(demo_challenge):
    result = run("demo", n=5, scale=2.0)
    assert not result.cached and result.status == "completed"
    assert result.metrics == {"total": 20.0, "terms": 5}
    files = {p.name for p in result.path.iterdir()}
    assert files == {"notebook.ipynb", "metrics.json", "ro-crate-metadata.json", "status.json",
                     "source.ipynb"}  # fmt: skip
    assert json.loads((result.path / "metrics.json").read_text()) == {"total": 20.0, "terms": 5}

    nb = nbformat.read(result.path / "notebook.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert (
        len(injected) == 1 and "n = 5" in injected[0].source and "scale = 2.0" in injected[0].source
    )
    assert nb.metadata.papermill.parameters == {"n": 5, "scale": 2.0, "fail": False, "record": True,
                                                "sleep": 0.0, "mode": "sum"}  # fmt: skip
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")

    crate = json.loads((result.path / "ro-crate-metadata.json").read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    root = graph["./"]
    assert {"@id": "https://w3id.org/ro/wfrun/process/0.5"} in root["conformsTo"]
    assert {"@id": "https://w3id.org/ro/wfrun/workflow/0.5"} in root["conformsTo"]
    [action] = [e for e in crate["@graph"] if e["@type"] == "CreateAction"]
    assert action["actionStatus"] == "http://schema.org/CompletedActionStatus"
    assert action["startTime"] < action["endTime"]
    assert graph["#pv-n"]["value"] == 5 and graph["#param-scale"]["unitText"] == "1"
    assert {"@id": "metrics.json"} in action["result"]
    assert [e["softwareVersion"] for e in crate["@graph"] if e.get("name") == "papermill"]
    import hashlib

    assert graph["notebook.ipynb"]["sha256"] == hashlib.sha256(
        (result.path / "notebook.ipynb").read_bytes()).hexdigest()  # fmt: skip


def test_identical_run_is_served_from_the_cache_and_force_reruns(demo_challenge):
    first = run("demo", n=4)
    t0 = time.perf_counter()
    again = run("demo", {"n": "4"})  # same value after conversion: same key
    elapsed = time.perf_counter() - t0
    assert again.cached and again.run_id == first.run_id
    assert elapsed < 1.0, "a cache hit must not start a kernel"
    assert len(stored_dirs()) == 2  # the run and the .keys index
    other = run("demo", n=5)
    assert not other.cached and other.run_id != first.run_id
    forced = run("demo", n=4, force=True)
    assert not forced.cached and forced.run_id != first.run_id
    # the notebook changed: the key changes
    path = get_challenge("demo").notebook_path
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("pass"))
    nbformat.write(nb, path)
    assert not run("demo", n=4).cached


def test_bad_parameters_fail_before_any_kernel_starts(demo_challenge):
    with pytest.raises(ParameterError, match=r"'n'.*out of bounds"):
        run("demo", n=0)
    with pytest.raises(ParameterError, match="unknown parameter 'x = 1; import os #'"):
        run("demo", **{"x = 1; import os #": 1})
    assert stored_dirs() == []


def test_a_failure_is_recorded_with_cell_and_error_and_earlier_results_stay(demo_challenge):
    good = run("demo", n=3)
    before = {p.name: p.read_bytes() for p in good.path.iterdir()}
    with pytest.raises(RunFailedError) as err:
        run("demo", n=3, fail=True)
    exc = err.value
    assert exc.ename == "RuntimeError" and "asked to fail" in exc.evalue
    assert exc.cell == 3  # the papermill-injected parameters cell counts
    failed_dir = get_settings().results_root / "demo" / exc.run_id
    status = json.loads((failed_dir / "status.json").read_text())
    assert status["status"] == "failed" and status["error"]["cell"] == 3
    crate = json.loads((failed_dir / "ro-crate-metadata.json").read_text())
    [action] = [e for e in crate["@graph"] if e["@type"] == "CreateAction"]
    assert action["actionStatus"] == "http://schema.org/FailedActionStatus"
    assert before == {p.name: p.read_bytes() for p in good.path.iterdir()}
    assert run("demo", n=3).run_id == good.run_id  # the failure did not replace the cache entry


def test_a_run_that_records_no_metrics_fails(demo_challenge):
    with pytest.raises(RunFailedError, match="did not record total, terms"):
        run("demo", record=False)


def test_a_kernel_that_never_answers_fails_the_run_after_the_sites_start_timeout(
    demo_challenge, tmp_path, monkeypatch
):
    import os
    import sys

    import psutil
    from fixtures.challenges import write_demo_challenge

    from genesis_lab.settings import reset_settings

    marker = f"mute-kernel-{os.getpid()}"
    spec = tmp_path / "jupyter" / "kernels" / "mute"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", f"import time; time.sleep(600)  # {marker}", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Mute",
                                                  "language": "python"}))  # fmt: skip
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    write_demo_challenge(demo_challenge.parent, "mute", kernel="mute")
    monkeypatch.setenv("GENESIS_PIPELINES", json.dumps({"kernel_start_timeout": 5}))
    reset_settings()
    t0 = time.monotonic()
    with pytest.raises(RunFailedError, match="Kernel didn't respond in 5 seconds") as err:
        run("mute")
    assert 5 <= time.monotonic() - t0 < 60
    status = json.loads((get_settings().results_root / "mute" / err.value.run_id / "status.json")
                        .read_text())  # fmt: skip
    assert status["status"] == "failed"
    deadline = time.monotonic() + 10
    while any(
        marker in " ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
    ):
        assert time.monotonic() < deadline, "the kernel that never answered is still running"
        time.sleep(0.2)


def test_leaderboard_and_verify(demo_challenge):
    ids = {n: run("demo", n=n).run_id for n in (2, 6, 4)}
    with pytest.raises(RunFailedError):
        run("demo", fail=True)
    board = leaderboard("demo")
    assert [r.run_id for r in board[:3]] == [ids[6], ids[4], ids[2]]  # maximize total
    assert board[-1].state == "failed"

    report = verify(ids[6])
    assert report.reproduced and all(m["agrees"] for m in report.metrics)
    assert not report.notebook_changed

    # a stored result that the notebook does not reproduce is reported, metric by metric
    status_path = get_settings().results_root / "demo" / ids[4] / "status.json"
    status = json.loads(status_path.read_text())
    status["metrics"]["total"] += 1.0
    status_path.write_text(json.dumps(status))
    report = verify(ids[4])
    assert not report.reproduced
    assert [m["metric"] for m in report.metrics if not m["agrees"]] == ["total"]


def test_record_metrics_outside_a_run_only_returns_them():
    assert gl.record_metrics(a=1, b=2.5) == {"a": 1, "b": 2.5}
    with pytest.raises(ParameterError, match="metric 'c'"):
        gl.record_metrics(c="high")


def test_the_genesis_engine_is_a_papermill_plugin(demo_challenge, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), str(demo_challenge / "challenge.ipynb"),
         str(out), "-p", "n", "4", "--engine", "genesis", "-k", "python3", "--no-progress-bar"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata.papermill.parameters == {"n": 4}
    assert all(c.metadata.papermill.status == "completed" for c in nb.cells)
