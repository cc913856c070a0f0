"""Hub timings on real parts: login-to-JupyterLab for 10 users at once (genesis vs plain spawner),
one spawn vs a bare jupyter-server start, 20 users logging in at once (overload) on SQLite and on
PostgreSQL, and the genesis service's zarr read through the hub's proxy (Traefik, and
configurable-http-proxy in the same run) against a direct disk read.

Run: ``.venv/bin/python benchmarks/bench_hub.py [PART ...]`` (parts: proxy, database, spawn;
default: all; needs ``make install`` and ``make proxy``, root and Debian's PostgreSQL; several minutes
on 2 cores).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "service"))

from _report import claim, context
from fixtures.hub import _shutdown, start_hub
from fixtures.postgres import running_postgres

FORM = {"allocation": "open-local", "cores": "1", "memory": "512MiB", "walltime": "00:30:00"}

CLAIMS = (
    "genesis spawner login-to-lab median / plain local spawner",
    "one spawn to ready / bare jupyter-server start",
    "overload: users of 20 without a session",
    "PostgreSQL: users of 20 logging in and spawning at once without a session",
    "PostgreSQL p95 login-to-lab of 20 at once / SQLite",
    "zarr read through the hub's proxy (traefik) / direct from disk (throughput)",
)
PROXY_ROUNDS = 7


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def login_to_lab(hub, name: str, form: dict | None, timeout: float = 300) -> float:
    """Seconds from posting the login form to JupyterLab's page served (as a browser would)."""
    t0 = time.perf_counter()
    s = hub.login(name)
    deadline = t0 + timeout
    while True:
        if form is None:
            r = s.get(f"{hub.url}/hub/spawn", timeout=60)
        else:
            r = s.post(f"{hub.url}/hub/spawn", data={**form, "_xsrf": s.cookies.get("_xsrf")},
                       timeout=60)  # fmt: skip
        if r.status_code != 429:  # spawn limit reached: retry as the page asks
            break
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{name}: still refused with 429 after {timeout}s")
        time.sleep(1)
    while True:
        r = s.get(f"{hub.url}/hub/spawn-pending/{name}", allow_redirects=False, timeout=60)
        if r.status_code == 302:
            break
        if r.status_code >= 400 or time.perf_counter() > deadline:
            raise RuntimeError(f"{name}: spawn failed ({r.status_code}): {r.text[-500:]}")
        time.sleep(0.1)
    r = s.get(f"{hub.url}/user/{name}/lab", timeout=60)
    if r.status_code != 200 or "JupyterLab" not in r.text:
        raise RuntimeError(f"{name}: lab not served ({r.status_code})")
    return time.perf_counter() - t0


def stop_all(hub, names: list[str]) -> None:
    for name in names:
        hub.stop_server(name, timeout=120)


def wave(hub, names: list[str], form: dict | None) -> list[float]:
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        times = list(pool.map(lambda n: login_to_lab(hub, n, form), names))
    stop_all(hub, names)
    return times


def rest_spawn_seconds(hub, name: str) -> float:
    token = hub.user_token(name)
    t0 = time.perf_counter()
    r = hub.spawn(name, {"allocation": "open-local", "memory": "512MiB"})
    assert r.status_code in (201, 202), r.text
    while True:  # as the bare server is timed: until the session answers through the proxy
        r = requests.get(f"{hub.url}/user/{name}/api/status",
                         headers={"Authorization": f"token {token}"}, timeout=30)  # fmt: skip
        if r.status_code == 200:
            break
        if time.perf_counter() - t0 > 120:
            raise TimeoutError(f"{name}: no session after 120 s")
        time.sleep(0.05)
    dt = time.perf_counter() - t0
    hub.stop_server(name)
    return dt


def bare_server_seconds(workdir: Path) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = str(Path(sys.executable).parent / "jupyter-server")
    argv = [exe, f"--port={port}", "--ip=127.0.0.1", "--no-browser", "--ServerApp.token=bench",
            f"--ServerApp.root_dir={workdir}"]  # fmt: skip
    if os.geteuid() == 0:
        argv.append("--allow-root")
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/api/status",
                                 headers={"Authorization": "token bench"}, timeout=5)  # fmt: skip
                if r.status_code == 200:
                    return time.perf_counter() - t0
            except requests.RequestException:
                pass
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(20)


def spawn_benchmarks() -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    os.chmod(base, 0o755)  # the service and session accounts enter the hubs' folders inside
    plain_home = base / "plain-sessions"
    plain_args = [
        "--JupyterHub.spawner_class=simple",
        f"--SimpleLocalProcessSpawner.home_dir_template={plain_home}/{{username}}",
        "--Spawner.args=--ServerApp.allow_root=True" if os.geteuid() == 0 else "--Spawner.args=",
    ]
    genesis = start_hub(base / "genesis", extra_hub={"concurrent_spawn_limit": 10})
    plain = start_hub(base / "plain", jupyterhub_args=plain_args,
                      extra_hub={"concurrent_spawn_limit": 10})  # fmt: skip
    try:
        g_users = [genesis.new_user(f"g{i}") for i in range(20)]
        p_users = [plain.new_user(f"p{i}") for i in range(10)]

        # 1. ten users at once, genesis vs plain, alternating waves
        g_times, p_times = [], []
        g_times += wave(genesis, g_users[:10], FORM)
        p_times += wave(plain, p_users, None)
        p_times += wave(plain, p_users, None)
        g_times += wave(genesis, g_users[:10], FORM)
        g_med, p_med = statistics.median(g_times), statistics.median(p_times)
        print(f"login-to-lab, 10 at once: genesis median {g_med:.2f}s p95 {p95(g_times):.2f}s; "
              f"plain median {p_med:.2f}s p95 {p95(p_times):.2f}s")  # fmt: skip
        claim("genesis spawner login-to-lab median / plain local spawner", g_med / p_med, 1.10,
              details=f"{g_med:.2f}s vs {p_med:.2f}s, 2x10 users each")  # fmt: skip

        # 2. one spawn to ready vs a bare jupyter-server start
        spawn_t, bare_t = [], []
        workdir = base / "bare"
        workdir.mkdir()
        rest_spawn_seconds(genesis, g_users[10])  # warm-up, not counted
        bare_server_seconds(workdir)
        for i in range(5):
            spawn_t.append(rest_spawn_seconds(genesis, g_users[11 + i]))
            bare_t.append(bare_server_seconds(workdir))
        s_med, b_med = statistics.median(spawn_t), statistics.median(bare_t)
        claim("one spawn to ready / bare jupyter-server start", s_med / b_med, 1.3,
              details=f"{s_med:.2f}s vs {b_med:.2f}s, 5 each after a warm-up")  # fmt: skip

        # 3. overload: 20 users log in at once, spawn limit 10; all must get a session
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            futures = [pool.submit(login_to_lab, genesis, n, FORM, 600) for n in g_users]
            done = [f.exception() is None for f in futures]
            times = [f.result() for f in futures if f.exception() is None]
        total = time.perf_counter() - t0
        print(f"overload: {sum(done)}/20 got JupyterLab in {total:.1f}s; median {statistics.median(times):.1f}s, "
              f"p95 {p95(times):.1f}s, concurrent_spawn_limit=10")  # fmt: skip
        claim("overload: users of 20 without a session", 20 - sum(done), 0, unit="",
              details=f"all in {total:.1f}s")  # fmt: skip
        stop_all(genesis, [n for n, ok in zip(g_users, done, strict=True) if ok])
    finally:
        _shutdown(genesis)
        _shutdown(plain)
        shutil.rmtree(base, ignore_errors=True)


def overload_wave(hub, users: list[str]) -> tuple[list[float], list[str]]:
    """20 users log in and spawn at once; their login-to-lab seconds and the errors."""
    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        futures = [pool.submit(login_to_lab, hub, n, FORM, 600) for n in users]
        times = [f.result() for f in futures if f.exception() is None]
        errors = [f"{type(f.exception()).__name__}: {str(f.exception())[:200]}"
                  for f in futures if f.exception() is not None]  # fmt: skip
    ok = [n for n, f in zip(users, futures, strict=True) if f.exception() is None]
    stop_all(hub, ok)
    return times, errors


def database_benchmarks() -> None:
    """The overload wave on a hub whose database is a real PostgreSQL server and on a SQLite hub,
    one after the other in the same run (spawn limit 10 on both)."""
    base = Path(tempfile.mkdtemp(prefix="bench-db-"))
    os.chmod(base, 0o755)
    with running_postgres() as pg, contextlib.ExitStack() as stack:
        hubs = {}
        for kind, db in (("sqlite", {}), ("postgresql", {"db_url": pg.create_database("bench")})):
            hubs[kind] = start_hub(base / kind, extra_hub={"concurrent_spawn_limit": 10, **db})
            stack.callback(_shutdown, hubs[kind])
        users = {kind: [hub.new_user(f"{kind[:2]}{i}") for i in range(20)]
                 for kind, hub in hubs.items()}  # fmt: skip
        results = {kind: overload_wave(hub, users[kind]) for kind, hub in hubs.items()}
        (pg_times, pg_errors), (lite_times, lite_errors) = results["postgresql"], results["sqlite"]
        claim("PostgreSQL: users of 20 logging in and spawning at once without a session",
              len(pg_errors), 0, unit="",
              details="; ".join(sorted(set(pg_errors))) or f"SQLite: {len(lite_errors)} failed")  # fmt: skip
        if pg_times and lite_times:
            pg95, lite95 = p95(pg_times), p95(lite_times)
            claim("PostgreSQL p95 login-to-lab of 20 at once / SQLite", pg95 / lite95, 1.5,
                  details=f"p95 {pg95:.1f}s vs {lite95:.1f}s, medians "
                  f"{statistics.median(pg_times):.1f}s vs {statistics.median(lite_times):.1f}s, "
                  "concurrent_spawn_limit=10, same run")  # fmt: skip
    shutil.rmtree(base, ignore_errors=True)


def proxy_benchmarks() -> None:
    """The service's zarr read: direct from disk, at the service's own address (as sessions reach
    it), through the hub's Traefik and through configurable-http-proxy, rotated round by round."""
    import xarray as xr
    from bench_service import BIG_ID, _write_big_store
    from svc_hub import serve_test_datasets

    import genesis_lab as gl
    from genesis_lab.settings import reset_settings

    base = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    os.chmod(base, 0o755)  # the service account reads its hub's site file inside
    hubs = {}
    try:
        for kind in ("traefik", "chp"):
            hubs[kind] = serve_test_datasets(start_hub(base / kind, extra_hub={"proxy": kind}))
        stores = {kind: _write_big_store(svc) for kind, svc in hubs.items()}
        for svc in hubs.values():
            deadline = time.monotonic() + 30
            while svc.get(f"api/data/{BIG_ID}", "c-controlled").status_code != 200:
                assert time.monotonic() < deadline, "the service never listed the dataset"
                time.sleep(0.2)

        def direct() -> None:
            ds = xr.open_zarr(stores["traefik"], chunks={})
            ds["thickness"].data.sum().compute(num_workers=8)

        def through(url: str, token: str):
            def read() -> None:
                os.environ["GENESIS_SERVICE_URL"], os.environ["JUPYTERHUB_API_TOKEN"] = url, token
                reset_settings()
                ds = gl.open_dataset(BIG_ID)
                ds["thickness"].data.sum().compute(num_workers=8)

            return read

        proxy_pid = {kind: int((svc.state_dir / "hub" / "proxy.pid").read_text())
                     for kind, svc in hubs.items()}  # fmt: skip
        t, c = hubs["traefik"], hubs["chp"]
        ways = {
            "direct": direct,
            "service": through(t.direct_url, t.token("c-controlled")),
            "traefik": through(t.service_url, t.token("c-controlled")),
            "chp": through(c.service_url, c.token("c-controlled")),
        }
        for read in ways.values():
            read()  # warm: imports, page cache, connection pools
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        proxy_cpu = dict.fromkeys(proxy_pid, 0.0)
        order = list(ways)
        for i in range(PROXY_ROUNDS):
            for way in order[i % 4 :] + order[: i % 4]:
                c0 = cpu_seconds(proxy_pid[way]) if way in proxy_pid else 0.0
                t0 = time.perf_counter()
                ways[way]()
                seconds[way].append(time.perf_counter() - t0)
                if way in proxy_pid:
                    proxy_cpu[way] += cpu_seconds(proxy_pid[way]) - c0
        ratio = {way: statistics.median(d / x for d, x in zip(seconds["direct"], seconds[way],
                                                               strict=True))
                 for way in ways}  # fmt: skip
        mbs = {way: 200 / statistics.median(seconds[way]) for way in ways}
        for way in ("service", "chp"):
            context(f"zarr read {'at the service' if way == 'service' else 'through CHP'} / direct",
                    ratio[way], unit="x", details=f"{mbs[way]:.0f} MB/s")  # fmt: skip
        context("zarr read through traefik / at the service's own address (the proxy's share)",
                ratio["traefik"] / ratio["service"], unit="x")  # fmt: skip
        for kind, used in proxy_cpu.items():  # what bounds the ratio on a small machine
            context(f"{kind}'s own CPU per GB it forwarded", used / (0.2 * PROXY_ROUNDS),
                    unit=" s", details="the proxy process alone; the direct read of 1 GB "
                    f"took {5 * statistics.median(seconds['direct']):.2f} s of wall time")  # fmt: skip
        claim("zarr read through the hub's proxy (traefik) / direct from disk (throughput)",
              ratio["traefik"], 0.5, op=">=",
              details=f"traefik {mbs['traefik']:.0f} MB/s, direct {mbs['direct']:.0f} MB/s, "
              f"service's own address {ratio['service']:.2f}x ({mbs['service']:.0f} MB/s), "
              f"configurable-http-proxy {ratio['chp']:.2f}x ({mbs['chp']:.0f} MB/s); 200 MB in "
              f"8 chunks of 25 MB, 8 dask threads, median of {PROXY_ROUNDS} rotated rounds")  # fmt: skip
    finally:
        for var in ("GENESIS_SERVICE_URL", "JUPYTERHUB_API_TOKEN"):
            os.environ.pop(var, None)
        reset_settings()
        for svc in hubs.values():
            svc.stop()
        shutil.rmtree(base, ignore_errors=True)


PARTS = {"proxy": proxy_benchmarks, "database": database_benchmarks, "spawn": spawn_benchmarks}


def main(parts: list[str] | None = None) -> int:
    for part in parts or list(PARTS):
        PARTS[part]()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: all)")
    chosen = parser.parse_args().parts
    if set(chosen) - set(PARTS):
        parser.error(f"unknown part in {chosen}; choose from {', '.join(PARTS)}")
    sys.exit(main(chosen))
