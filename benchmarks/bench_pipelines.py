"""Claims: the challenge runner takes at most 1.10x bare nbclient (read, execute, write) at 3 and
100 cells; a cache hit is at least 50x faster than the first run. Stock papermill is measured too."""

import os
import tempfile
import time
from pathlib import Path

import yaml
from _report import claim, interleaved, median

CLAIMS = (
    "runner vs bare nbclient, 3 cells",
    "runner vs bare nbclient, 100 cells",
    "cache hit vs first run",
)


def _write_challenge(root: Path, cid: str, cells: int) -> Path:
    import nbformat

    folder = root / cid
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell("n = 10")
    params.metadata["tags"] = ["parameters"]
    body = [
        nbformat.v4.new_code_cell(f"x{i} = sum(range(n)) + {i}\nx{i}") for i in range(cells - 2)
    ]
    last = nbformat.v4.new_code_cell("import genesis_lab as gl\ngl.record_metrics(total=n)")
    nb.cells = [params, *body, last]
    nbformat.write(nb, folder / "challenge.ipynb")
    spec = {"id": cid, "domain": "semiconductors", "title": cid, "question": "overhead",
            "parameters": {"n": {"type": "int", "default": 10, "min": 1, "max": 100}},
            "metrics": {"total": {"goal": "maximize"}}}  # fmt: skip
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec))
    return folder


def main() -> None:
    from genesis_lab.pipelines import run
    from genesis_lab.settings import reset_settings

    # the runner and its kernels read their configuration from these variables; restored after
    saved = {k: os.environ.get(k) for k in ("GENESIS_HOME", "GENESIS_CHALLENGE_PATHS")}
    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as scratch:
        tmp = Path(scratch)
        os.environ["GENESIS_HOME"] = str(tmp / "home")
        os.environ["GENESIS_CHALLENGE_PATHS"] = str(tmp / "challenges")
        reset_settings()
        try:
            _measure(tmp, run)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            reset_settings()


def _measure(tmp: Path, run) -> None:
    import nbformat
    import papermill
    from nbclient import NotebookClient

    out = tmp / "out.ipynb"

    for cells in (3, 100):
        folder = _write_challenge(tmp / "challenges", f"bench-{cells}", cells)
        source = folder / "challenge.ipynb"

        def bare(source=source):
            nb = nbformat.read(source, as_version=4)
            NotebookClient(
                nb, kernel_name="python3", resources={"metadata": {"path": str(tmp)}}
            ).execute()
            nbformat.write(nb, out)

        def runner(cells=cells):
            run(f"bench-{cells}", force=True)

        def stock_papermill(source=source):
            papermill.execute_notebook(str(source), str(out), kernel_name="python3",
                                       progress_bar=False, cwd=str(tmp))  # fmt: skip

        runner()
        bare()  # warm both paths (imports, kernelspec lookup)
        t_run, t_bare = interleaved(runner, bare, pairs=10)
        t_pm, t_bare2 = interleaved(stock_papermill, bare, pairs=3)
        ratio = median(t_run) / median(t_bare)
        claim(
            f"runner vs bare nbclient, {cells} cells",
            ratio,
            1.10,
            details=f"runner {median(t_run):.3f} s, nbclient {median(t_bare):.3f} s, stock papermill "
            f"{median(t_pm) / median(t_bare2):.2f}x; 10 pairs; the runner writes once and stops "
            "the kernel as soon as the last cell replied, nbclient waits for a graceful exit",
        )

    _write_challenge(tmp / "challenges", "bench-cache", 3)
    firsts = []
    for n in range(1, 4):
        t0 = time.perf_counter()
        run("bench-cache", n=n)
        firsts.append(time.perf_counter() - t0)
    hits = []
    for _ in range(20):
        t0 = time.perf_counter()
        result = run("bench-cache", n=2)
        hits.append(time.perf_counter() - t0)
        assert result.cached
    speedup = median(firsts) / median(hits)
    claim(
        "cache hit vs first run",
        speedup,
        50,
        op=">=",
        details=f"first run {median(firsts):.3f} s, cache hit {median(hits) * 1000:.2f} ms",
    )


if __name__ == "__main__":
    main()
