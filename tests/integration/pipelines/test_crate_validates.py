"""A real run's RO-Crate passes every REQUIRED check of rocrate-validator (Workflow Run Crate 0.5).

The validator runs offline: its HTTP cache is filled beforehand with the RO-Crate 1.1 JSON-LD
context shipped in ``tests/fixtures`` (CC0, https://w3id.org/ro/crate/1.1/context, version 1.1.3).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genesis_lab.errors import RunFailedError
from genesis_lab.pipelines import run, verify
from genesis_lab.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CONTEXT_URL = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "workflow-run-crate-0.5"
DATASET = "quantum-information/codata-constants"
SIMULATOR = "nuclear-energy/point-kinetics"
# What the Workflow Run Crate 0.5 profile still recommends and a run does not give (see the
# report in the note): a url and an absolute id for software that has none (the notebook, the
# kernel environment, locally installed packages, genesis-lab simulators), a README.md, an
# author's affiliation, a url for the site's organisation, and a type other than
# SoftwareApplication for the simulators the CreateAction used (listed in its object).
RECOMMENDED_LEFT = {
    "process-run-crate-0.5_3.2",
    "process-run-crate-0.5_5.1",
    "process-run-crate-0.5_10.1",
    "workflow-ro-crate-1.0_6.1",
    "workflow-ro-crate-1.0_6.2",
    "ro-crate-1.1_30.2",
    "ro-crate-1.1_30.3",
    "ro-crate-1.1_31.2",
}


def warm_validator_cache(cache: Path) -> None:
    """Store the local RO-Crate 1.1 context in a requests-cache database under its URL."""
    import requests
    from requests.adapters import BaseAdapter, HTTPAdapter
    from requests_cache import CachedSession
    from urllib3 import HTTPResponse

    body = gzip.decompress((FIXTURES / "ro-crate-1.1-context.jsonld.gz").read_bytes())

    class Local(BaseAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
            assert request.url == CONTEXT_URL, request.url
            raw = HTTPResponse(body=io.BytesIO(body), headers={"Content-Type": "application/ld+json"},
                               status=200, preload_content=False, request_url=request.url)  # fmt: skip
            return HTTPAdapter().build_response(request, raw)

        def close(self) -> None:
            pass

    # the same session settings rocrate-validator uses for its cache
    with CachedSession(cache_name=str(cache), backend="sqlite", expire_after=-1,
                       allowable_methods=("GET",), allowable_codes=(200, 302, 404)) as s:  # fmt: skip
        s.mount("https://", Local())
        s.get(CONTEXT_URL, headers={"Accept": "application/ld+json, application/json, */*;q=0.1"})


def validate(crate_dir: Path, cache: Path) -> dict:
    beside = Path(sys.executable).with_name("rocrate-validator")
    exe = str(beside) if beside.exists() else shutil.which("rocrate-validator")
    assert exe, "rocrate-validator is not installed: pip install -e '.[test]'"
    out = subprocess.run(
        [exe, "-y", "--disable-color", "validate", "-p", PROFILE, "--skip-availability-check",
         "--offline", "--cache-path", str(cache), "-l", "recommended", "-f", "json",
         str(crate_dir)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.stdout.strip(), out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def asset_challenge(demo_challenge, tmp_path, monkeypatch):
    from fixtures.challenges import write_demo_challenge

    from genesis_lab.settings import reset_settings

    site = tmp_path / "site.yaml"
    site.write_text("dcat: {publisher: Genesis Mission test site}\n")
    monkeypatch.setenv("GENESIS_SITE_FILE", str(site))
    reset_settings()
    write_demo_challenge(demo_challenge.parent, "assets", datasets=[DATASET],
                         simulators=[SIMULATOR])  # fmt: skip
    return "assets"


@pytest.mark.slow  # rocrate-validator takes ~10 s per crate
def test_a_run_crate_passes_every_required_check_offline(asset_challenge, tmp_path):
    result = run(asset_challenge, n=5, scale=2.0)
    cache = tmp_path / "validator-cache"
    warm_validator_cache(cache)
    report = validate(result.path, cache)

    by_severity: dict[str, set[str]] = {}
    for issue in report["issues"]:
        by_severity.setdefault(issue["severity"], set()).add(
            f"{issue['check']['identifier']}: {issue['message']}"
        )
    assert "REQUIRED" not in by_severity, by_severity["REQUIRED"]
    left = {i.split(":")[0] for i in by_severity.get("RECOMMENDED", set())}
    assert left <= RECOMMENDED_LEFT, sorted(left - RECOMMENDED_LEFT)
    assert report["skipped_checks"] == 0  # the offline context was found: nothing skipped

    crate = json.loads((result.path / "ro-crate-metadata.json").read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    action = graph[graph["./"]["mentions"]["@id"]]
    results = {r["@id"] for r in action["result"]}
    # metric values are outputs: PropertyValues holding the recorded numbers (0+1+2+3+4, doubled)
    values = {graph[i]["name"]: graph[i]["value"] for i in results if i.startswith("#")}
    assert values == {"total": 20.0, "terms": 5}
    # every file checksum is the sha256 of the stored bytes
    for name in ("notebook.ipynb", "metrics.json"):
        assert name in results
        digest = hashlib.sha256((result.path / name).read_bytes()).hexdigest()
        assert graph[name]["sha256"] == digest
    # the simulator carries the sha256 of the module that implements it
    module = importlib.util.find_spec("genesis_lab.simulators.nuclear_energy").origin
    workflow = graph["source.ipynb"]
    needs = {r["@id"] for r in workflow["softwareRequirements"]}
    sim = graph[f"#simulator-{SIMULATOR}"]
    assert sim["@id"] in needs
    assert sim["sha256"] == hashlib.sha256(Path(module).read_bytes()).hexdigest()
    # the dataset is an input through a FormalParameter, with its catalog checksum
    [fp] = [graph[i["@id"]] for i in workflow["input"] if graph[i["@id"]]["name"] == DATASET]
    assert graph[fp["workExample"]["@id"]]["identifier"] == DATASET
    # the environment is the kernel's: every installed distribution with its version
    kernel = graph["#kernel-environment"]
    assert kernel["operatingSystem"] == platform.platform()
    pkgs = {graph[p["@id"]]["name"]: graph[p["@id"]]["softwareVersion"]
            for p in kernel["softwareRequirements"]}  # fmt: skip
    installed = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert set(pkgs) == installed
    for name in ("numpy", "papermill", "rocrate", "genesis-lab"):
        assert pkgs[name] == importlib.metadata.version(name)

    org = graph[graph["./"]["publisher"]["@id"]]
    assert org["@type"] == "Organization" and org["name"] == "Genesis Mission test site"

    assert verify(result.run_id).reproduced


@pytest.mark.slow  # rocrate-validator takes ~10 s per crate
def test_a_failed_run_crate_passes_every_required_check_offline(asset_challenge, tmp_path):
    with pytest.raises(RunFailedError) as err:
        run(asset_challenge, record=False)
    cache = tmp_path / "validator-cache"
    warm_validator_cache(cache)
    folder = get_settings().results_root / asset_challenge / err.value.run_id
    report = validate(folder, cache)
    assert [i["message"] for i in report["issues"] if i["severity"] == "REQUIRED"] == []
    crate = json.loads((folder / "ro-crate-metadata.json").read_text())
    [action] = [e for e in crate["@graph"] if e["@type"] == "CreateAction"]
    assert action["actionStatus"] == "http://schema.org/FailedActionStatus"
    assert "MissingMetrics" in action["error"]


def test_a_kernel_that_cannot_be_asked_still_gets_its_run_recorded(demo_challenge):
    from fixtures.challenges import write_demo_challenge

    write_demo_challenge(demo_challenge.parent, "nokernel", kernel="no-such-kernel")
    with pytest.raises(RunFailedError, match="no-such-kernel") as err:
        run("nokernel")
    folder = get_settings().results_root / "nokernel" / err.value.run_id
    graph = {
        e["@id"]: e for e in json.loads((folder / "ro-crate-metadata.json").read_text())["@graph"]
    }
    kernel = graph["#kernel-environment"]
    assert "runner's interpreter" in kernel["description"] and "no-such-kernel" in kernel["name"]
    assert len(kernel["softwareRequirements"]) == len(list(importlib.metadata.distributions()))
