"""Red team: from inside an uncleared user's real session, try every way around the platform's
promise (access by clearance, private work, the audit record) and check that each one fails,
while the cleared user's legitimate reads still work.

Runs on the project's shared hub as CI runs it (as root), where every session runs as a Unix
account of its own and the genesis service as its own account.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from realparts import is_root, require
from svc_hub import DATASETS
from test_policy_matrix import run_in_kernel

ATTACKER, VICTIM = "vetted", "c-export"
REPO = Path(__file__).resolve().parents[3]

ATTACK = textwrap.dedent(
    r"""
    import ctypes, glob, json, os, signal, subprocess, sys
    P = json.loads({paths!r})
    out = {{}}

    def attempt(name, fn):
        try:
            out[name] = "DONE: " + repr(fn())[:200]
        except Exception as exc:  # every refusal is an exception; anything else is a finding
            out[name] = "refused: " + type(exc).__name__

    def read(path):
        with open(path, "rb") as f:
            return f.read(64)

    def write(path, data=b"x"):
        with open(path, "ab") as f:
            f.write(data)
        return "written"

    me = os.getuid()
    out["uid"] = me
    attempt("read restricted store", lambda: read(P["restricted_chunk"]))
    attempt("list the data root", lambda: os.listdir(P["data_root"]))
    attempt("list hidden catalog YAML", lambda: os.listdir(P["catalog_dir"]))
    attempt("read hidden catalog YAML", lambda: read(P["catalog_file"]))
    env = {{k: v for k, v in os.environ.items() if k != "GENESIS_SERVICE_URL"}}
    env["GENESIS_HOME"] = P["hub_home"]
    env.pop("JUPYTERHUB_API_TOKEN", None)

    def open_hidden():
        code = ("import genesis_lab as gl; ds = gl.open_dataset(%r); "
                "print(float(ds['thickness'][0, 0]))" % P["hidden_id"])
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise PermissionError(done.stderr.strip().splitlines()[-1])
        return done.stdout
    attempt("open a hidden id from the hub's home without the service", open_hidden)
    attempt("read the other user's notebook", lambda: read(P["victim_notebook"]))
    attempt("write the other user's notebook", lambda: write(P["victim_notebook"]))
    attempt("list the other user's kernel connection files",
            lambda: os.listdir(P["victim_runtime"]))
    attempt("read the hub's database", lambda: read(P["hub_db"]))
    attempt("read the cookie secret", lambda: read(P["cookie_secret"]))
    attempt("read the proxy token", lambda: read(P["proxy_token"]))
    attempt("write the hub's database", lambda: write(P["hub_db"]))
    attempt("write into the site catalog", lambda: write(P["catalog_dir"] + "/republish.yaml"))
    attempt("truncate the audit log", lambda: open(P["audit_log"], "wb").close())
    attempt("delete the audit log", lambda: os.unlink(P["audit_log"]))
    attempt("read the audit log", lambda: read(P["audit_log"]))
    attempt("write the hub's code", lambda: write(P["package_init"], b""))
    attempt("write into the venv", lambda: write(P["site_packages"] + "/evil.pth", b""))
    attempt("write into a course she is not in", lambda: write(P["course_dir"] + "/evil.txt"))

    others, leaked_env, tokens_seen = [], [], []
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            uid = os.stat(proc).st_uid
        except OSError:
            continue
        if uid == me:
            continue
        others.append(proc)
        try:
            leaked_env.append((proc, read(proc + "/environ")[:20]))
        except OSError:
            pass
        try:
            cmd = open(proc + "/cmdline", "rb").read()
        except OSError:
            continue
        for secret in P["secrets"]:
            if secret.encode() in cmd:
                tokens_seen.append(proc)
    out["other processes seen"] = len(others)
    out["environ of other processes read"] = repr(leaked_env)[:300]
    out["secrets in command lines"] = tokens_seen

    victim = [p for p in others if os.stat(p).st_uid == P["victim_uid"]]
    out["victim processes"] = len(victim)
    for proc in victim[:3]:
        pid = int(proc.rsplit("/", 1)[1])
        attempt(f"SIGSTOP victim {{pid}}", lambda: os.kill(pid, signal.SIGSTOP))
        attempt(f"SIGTERM victim {{pid}}", lambda: os.kill(pid, signal.SIGTERM))
        attempt(f"read /proc/{{pid}}/mem", lambda: read(proc + "/mem"))
        libc = ctypes.CDLL(None, use_errno=True)
        def ptrace():
            if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
                raise PermissionError(os.strerror(ctypes.get_errno()))
            libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
            return "attached"
        attempt(f"ptrace {{pid}}", ptrace)

    def become_root(argv):
        done = subprocess.run(argv, input="", capture_output=True, text=True, timeout=10)
        if done.returncode != 0 or done.stdout.strip() != "0":
            raise PermissionError(f"exit {{done.returncode}}")
        return done.stdout
    for binary in ("sudo", "su", "pkexec", "doas"):
        path = "/usr/bin/" + binary
        if os.path.exists(path):
            argv = {{"su": [path, "-c", "id -u", "root"]}}.get(binary, [path, "-n", "id", "-u"])
            attempt(f"become root with {{binary}}", lambda: become_root(argv))
    setuid = subprocess.run(["find", "/usr/bin", "/usr/sbin", "/bin", "/sbin", "-xdev",
                             "-perm", "-4000", "-type", "f"], capture_output=True, text=True)
    out["setuid binaries"] = sorted(set(setuid.stdout.split()))
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def two_sessions(service_hub):
    """The uncleared attacker's and the cleared victim's sessions; the victim keeps a private
    notebook in her home."""
    require(is_root(), "root (sessions as Unix accounts of their own)", "run the tests as root")
    for user in (ATTACKER, VICTIM):
        r = service_hub.hub_api("POST", f"/users/{user}/server",
                                json={"allocation": "open-local", "memory": "512MiB"})  # fmt: skip
        assert r.status_code in (201, 202, 400), r.text
    deadline = time.monotonic() + 120
    for user in (ATTACKER, VICTIM):
        while (
            not service_hub.hub_api("GET", f"/users/{user}")
            .json()["servers"]
            .get("", {})
            .get("ready")
        ):
            assert time.monotonic() < deadline, service_hub.log()[-3000:]
            time.sleep(0.3)
    out = run_in_kernel(service_hub, VICTIM, textwrap.dedent(
        """
        import os, json
        path = os.path.expanduser("~/private.ipynb")
        with open(path, "w") as f:
            f.write('{"cells": [], "secret": "victim-work"}')
        os.chmod(path, 0o600)
        import tempfile, dask
        print("RESULT" + json.dumps({"uid": os.getuid(), "home": os.path.expanduser("~"),
                                     "notebook": path, "tmp": tempfile.gettempdir(),
                                     "dask_tmp": dask.config.get("temporary-directory")}))
        """))  # fmt: skip
    victim = json.loads(out.split("RESULT", 1)[1])
    token = service_hub.token(VICTIM)
    kernels = f"{service_hub.url}/user/{VICTIM}/api/kernels"
    auth = {"Authorization": f"token {token}"}
    r = requests.post(kernels, headers=auth, json={"name": "python3"}, timeout=60)
    r.raise_for_status()  # a kernel of hers stays up during the attack (ptrace, /proc/mem)
    yield victim
    requests.delete(f"{kernels}/{r.json()['id']}", headers=auth, timeout=30)
    for user in (ATTACKER, VICTIM):
        service_hub.hub_api("DELETE", f"/users/{user}/server")


def _course_dir(service_hub) -> str:
    import subprocess

    hub = service_hub.hub
    env = {**hub.env, "JUPYTERHUB_API_URL": hub.api_url,  # a course's group is the hub's
           "JUPYTERHUB_API_TOKEN": hub.ensure_admin_token()}  # fmt: skip
    name = "redteam-course"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "genesis-lab"), "course", "create", name],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 or "exists already" in done.stderr, done.stderr
    return str(service_hub.state_dir / "course-storage" / name)


def test_an_uncleared_session_cannot_get_around_the_platform(service_hub, two_sessions):
    victim = two_sessions
    state = service_hub.state_dir
    hub_state = state / "hub"
    site_packages = next((REPO / ".venv" / "lib").glob("python3*/site-packages"), None) or Path(
        sys.prefix
    )
    secrets = [service_hub.token(VICTIM), service_hub.hub.ensure_admin_token()]
    secrets += [(hub_state / "proxy_auth_token").read_text().strip()]
    paths = {
        "restricted_chunk": str(
            service_hub.data_root / "site" / "wafer-export-controlled.zarr" / "thickness" / "0.0"
        ),
        "data_root": str(service_hub.data_root),
        "catalog_dir": str(service_hub.catalog_dir),
        "catalog_file": str(service_hub.catalog_dir / "wafers.yaml"),
        "hub_home": str(service_hub.home),
        "hidden_id": DATASETS["export-controlled"],
        "victim_notebook": victim["notebook"],
        "victim_runtime": victim["home"] + "/.local/share/jupyter/runtime",
        "victim_uid": victim["uid"],
        "hub_db": str(hub_state / "jupyterhub.sqlite"),
        "cookie_secret": str(hub_state / "jupyterhub_cookie_secret"),
        "proxy_token": str(hub_state / "proxy_auth_token"),
        "audit_log": str(service_hub.audit_path),
        "package_init": str(REPO / "genesis_lab" / "__init__.py"),
        "site_packages": str(site_packages),
        "course_dir": _course_dir(service_hub),
        "secrets": secrets,
    }
    audit_before = service_hub.audit_path.stat().st_size
    out = run_in_kernel(service_hub, ATTACKER, ATTACK.format(paths=json.dumps(paths)))
    result = json.loads(out.split("RESULT", 1)[1])

    assert result["uid"] not in (0, os.getuid(), victim["uid"])
    findings = {k: v for k, v in result.items() if isinstance(v, str) and v.startswith("DONE")}
    assert not findings, f"attempts that worked: {json.dumps(findings, indent=1)}"
    attempts = [k for k, v in result.items() if isinstance(v, str) and v.startswith("refused")]
    # every row was really tried: 18 on files, one through the SDK, su, and 4 on each of her
    # processes (her server and her kernel at least)
    assert result["victim processes"] >= 2, "the victim's server and kernel were not visible"
    assert len(attempts) >= 18 + 1 + 1 + 4 * 2, json.dumps(result, indent=1)
    assert result["other processes seen"] > result["victim processes"]
    assert result["environ of other processes read"] == "[]"
    assert result["secrets in command lines"] == []
    assert all(Path(b).name not in {"sudo", "doas", "pkexec"} for b in result["setuid binaries"])
    # temporary files stay in the private home: a shared /tmp name would lock other users out
    assert victim["tmp"] == victim["dask_tmp"] == victim["home"] + "/.cache/tmp"
    # the victim's work is intact, the audit log still grows and verifies
    assert "victim-work" in Path(victim["notebook"]).read_text()
    assert service_hub.audit_path.stat().st_size >= audit_before


def test_the_cleared_users_reads_still_work(service_hub, two_sessions):
    code = textwrap.dedent(
        f"""
        import json, genesis_lab as gl
        ds = gl.open_dataset({DATASETS["export-controlled"]!r})
        print("RESULT" + json.dumps(float(ds["thickness"][0, 0])))
        """
    )
    import numpy as np
    import xarray as xr

    out = run_in_kernel(service_hub, VICTIM, code)
    value = json.loads(out.split("RESULT", 1)[1])
    store = service_hub.data_root / "site" / "wafer-export-controlled.zarr"
    assert np.isclose(value, float(xr.open_zarr(store)["thickness"][0, 0].values))


REGISTER = textwrap.dedent(
    """
    import json, numpy as np, xarray as xr, genesis_lab as gl
    from genesis_lab.data import save_dataset
    out = {{}}
    ds = xr.Dataset({{"yield_": ("wafer", np.arange(5.0) + 0.5, {{"units": "1"}})}})
    def attempt(name, fn):
        try:
            out[name] = ["ok", fn()]
        except Exception as exc:
            out[name] = [type(exc).__name__, str(exc)]
    attempt("register", lambda: save_dataset(ds, {id!r}, title="Yield of my wafers",
            description="Made in a session.", source="red-team test",
            marking={marking!r}).id)
    attempt("open", lambda: gl.open_dataset({id!r})["yield_"].values.tolist())
    print("RESULT" + json.dumps(out))
    """
)


def test_save_dataset_in_a_session_registers_through_the_service(service_hub, two_sessions):
    import pwd
    import uuid

    dataset_id = f"semiconductors/regtest-{uuid.uuid4().hex[:6]}"
    code = REGISTER.format(id=dataset_id, marking="export-controlled")
    mine = json.loads(run_in_kernel(service_hub, VICTIM, code).split("RESULT", 1)[1])
    assert mine["register"] == ["ok", dataset_id], mine
    assert mine["open"] == ["ok", [0.5, 1.5, 2.5, 3.5, 4.5]], mine
    store = service_hub.data_root / "semiconductors" / f"{dataset_id.split('/')[1]}.zarr"
    assert store.stat().st_uid == pwd.getpwnam("genesis").pw_uid  # written by the service
    lines = service_hub.audit_path.read_text().split("\n")[:-1]  # the last may be mid-write
    records = [json.loads(x) for x in lines]
    assert any(r.get("event_type") == "dataset.register" and r.get("identity") == VICTIM
               and r.get("dataset") == dataset_id and r["outcome"] == "success"
               for r in records)  # fmt: skip

    # the uncleared user: not under a marking she lacks, not over a taken id, and the cleared
    # user's dataset stays invisible to her
    theirs = json.loads(run_in_kernel(service_hub, ATTACKER, REGISTER.format(
        id=f"semiconductors/regtest-{uuid.uuid4().hex[:6]}", marking="controlled",
    )).split("RESULT", 1)[1])  # fmt: skip
    assert theirs["register"][0] == "AccessDeniedError"
    assert "does not hold the controlled clearance" in theirs["register"][1]
    taken = json.loads(run_in_kernel(service_hub, ATTACKER, REGISTER.format(
        id=dataset_id, marking="public")).split("RESULT", 1)[1])  # fmt: skip
    assert taken["register"][0] == "CatalogError" and "taken or reserved" in taken["register"][1]
    assert taken["open"][0] == "UnknownAssetError"


def test_the_catalog_cli_in_a_session_shows_the_services_view(service_hub, two_sessions):
    code = textwrap.dedent(
        """
        import json, subprocess, genesis_lab as gl
        done = subprocess.run(["genesis-lab", "catalog", "list", "--json"], capture_output=True,
                              text=True, check=True)
        cli = sorted(e["id"] for e in json.loads(done.stdout))
        print("RESULT" + json.dumps({"cli": cli, "sdk": sorted(e.id for e in gl.search())}))
        """
    )
    seen = json.loads(run_in_kernel(service_hub, ATTACKER, code).split("RESULT", 1)[1])
    assert seen["cli"] == seen["sdk"]
    assert DATASETS["controlled"] in seen["cli"]  # restricted metadata shown to the vetted
    assert DATASETS["export-controlled"] not in seen["cli"]  # hidden, as an unknown id
