"""The RO-Crate of a run (Workflow Run Crate profile 0.5), written as JSON-LD.

It describes the notebook (workflow), the parameter values and input assets with their checksums,
the package versions, and the run itself (a CreateAction with start, end and status).
"""

from __future__ import annotations

from typing import Any

from genesis_lab.pipelines.challenge import Challenge

__all__ = ["PROFILES", "build_crate"]

PROFILES: tuple[str, ...] = (
    "https://w3id.org/ro/wfrun/process/0.5",
    "https://w3id.org/ro/wfrun/workflow/0.5",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
)
_TYPES = {"float": "Float", "int": "Integer", "bool": "Boolean", "str": "Text"}
_STATUS = {
    "completed": "http://schema.org/CompletedActionStatus",
    "failed": "http://schema.org/FailedActionStatus",
}


def build_crate(
    challenge: Challenge,
    *,
    run_id: str,
    parameters: dict[str, Any],
    inputs: list[dict[str, Any]],
    packages: dict[str, str],
    start: str,
    end: str,
    status: str,
    owner: str,
    source_sha256: str,
    files: dict[str, str],
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``ro-crate-metadata.json`` document of one run.

    ``files`` maps each file in the run folder to its sha256.

    >>> from genesis_lab.pipelines.crate import PROFILES
    >>> PROFILES[0]
    'https://w3id.org/ro/wfrun/process/0.5'
    """
    action_id = f"#run-{run_id}"
    graph: list[dict[str, Any]] = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"},
            "about": {"@id": "./"},
        },
        {
            "@id": "./",
            "@type": "Dataset",
            "name": f"{challenge.title} — run {run_id}",
            "description": challenge.question,
            "datePublished": end,
            "license": {"@id": "https://opensource.org/licenses/BSD-3-Clause"},
            "conformsTo": [{"@id": p} for p in PROFILES],
            "mainEntity": {"@id": "source.ipynb"},
            "hasPart": [{"@id": name} for name in sorted(files)],
            "mentions": [{"@id": action_id}],
        },
        *(
            {"@id": p, "@type": "CreativeWork", "name": p.rsplit("/", 2)[-2], "version": "0.5"}
            for p in PROFILES[:2]
        ),
        {
            "@id": PROFILES[2],
            "@type": "CreativeWork",
            "name": "Workflow RO-Crate",
            "version": "1.0",
        },
        {
            "@id": "#python",
            "@type": "ComputerLanguage",
            "name": "Python",
            "version": packages.get("python", ""),
            "url": {"@id": "https://www.python.org/"},
        },
        {
            "@id": "source.ipynb",
            "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
            "name": f"genesis-lab challenge {challenge.catalog_id}",
            "encodingFormat": "application/x-ipynb+json",
            "programmingLanguage": {"@id": "#python"},
            "sha256": source_sha256,
            "input": [{"@id": f"#param-{n}"} for n in challenge.parameters]
            + [{"@id": f"#input-{a['id']}"} for a in inputs],
            "output": [{"@id": f"#metric-{m}"} for m in challenge.metrics],
            "softwareRequirements": [{"@id": f"#pkg-{n}"} for n in packages if n != "python"],
        },
    ]
    for name, p in challenge.parameters.items():
        formal: dict[str, Any] = {
            "@id": f"#param-{name}",
            "@type": "FormalParameter",
            "name": name,
            "additionalType": _TYPES[p.type],
            "defaultValue": str(p.default),
            "description": p.description,
            "valueRequired": False,
        }
        if p.unit:
            formal["unitText"] = p.unit
        graph.append(formal)
        graph.append(
            {
                "@id": f"#pv-{name}",
                "@type": "PropertyValue",
                "name": name,
                "value": parameters[name],
                "exampleOfWork": {"@id": f"#param-{name}"},
            }
        )
    for m in challenge.metrics.values():
        graph.append(
            {
                "@id": f"#metric-{m.name}",
                "@type": "FormalParameter",
                "name": m.name,
                "additionalType": "Float",
                "description": m.description,
                **({"unitText": m.unit} if m.unit else {}),
            }
        )
    for a in inputs:
        item = {
            "@id": f"#input-{a['id']}",
            "@type": "Dataset" if a["kind"] == "dataset" else "SoftwareApplication",
            "additionalType": a["kind"],
            "identifier": a["id"],
            "name": a["title"],
            "version": a["version"],
            "url": a["source"],
        }
        if a.get("sha256"):
            item["sha256"] = a["sha256"]
        graph.append(item)
    for n, v in packages.items():
        if n != "python":
            graph.append(
                {
                    "@id": f"#pkg-{n}",
                    "@type": "SoftwareApplication",
                    "name": n,
                    "softwareVersion": v,
                }
            )
    for name, digest in sorted(files.items()):
        if name == "source.ipynb":
            continue
        graph.append(
            {
                "@id": name,
                "@type": "File",
                "encodingFormat": "application/x-ipynb+json"
                if name.endswith(".ipynb")
                else "application/json",
                "sha256": digest,
            }
        )
    action: dict[str, Any] = {
        "@id": action_id,
        "@type": "CreateAction",
        "name": f"Run of challenge {challenge.id}",
        "instrument": {"@id": "source.ipynb"},
        "agent": {"@id": f"#person-{owner}"},
        "object": [{"@id": f"#pv-{n}"} for n in challenge.parameters]
        + [{"@id": f"#input-{a['id']}"} for a in inputs],
        "result": [{"@id": n} for n in sorted(files) if n != "source.ipynb"],
        "startTime": start,
        "endTime": end,
        "actionStatus": {"@id": _STATUS[status]},
    }
    if error:
        action["error"] = f"cell {error.get('cell')}: {error.get('ename')}: {error.get('evalue')}"
    graph.append(action)
    graph.append({"@id": f"#person-{owner}", "@type": "Person", "name": owner})
    return {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
