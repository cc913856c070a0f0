"""The RO-Crate of a run (Workflow Run Crate profile 0.5), built with ro-crate-py.

The notebook is the workflow; its parameters, the catalog datasets it reads, its metrics and the
files it writes are FormalParameters whose values (PropertyValues and files) the run's
CreateAction consumed or produced. Simulators and models are software requirements with the
sha256 of their code, next to the kernel's interpreter, platform and every installed package.
Checksums use the ``sha256`` term of the Workflow Run terms, declared in the crate's context.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from genesis_lab.pipelines.challenge import Challenge

__all__ = ["CONTEXT", "PROFILES", "SHA256_TERM", "build_crate"]

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
SHA256_TERM = "https://w3id.org/ro/terms/workflow-run#sha256"
PROFILES: tuple[str, ...] = (
    "https://w3id.org/ro/wfrun/process/0.5",
    "https://w3id.org/ro/wfrun/workflow/0.5",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
)
_PROFILE_NAMES = ("Process Run Crate", "Workflow Run Crate", "Workflow RO-Crate")
_LICENSE = ("https://spdx.org/licenses/BSD-3-Clause", "BSD 3-Clause License", "BSD-3-Clause")
_TYPES = {"float": "Float", "int": "Integer", "bool": "Boolean", "str": "Text"}
_STATUS = {
    "completed": "http://schema.org/CompletedActionStatus",
    "failed": "http://schema.org/FailedActionStatus",
}
_MEDIA = {".ipynb": "application/x-ipynb+json", ".json": "application/json"}
_OUTPUTS = {
    "notebook.ipynb": "The executed notebook, with its outputs",
    "metrics.json": "The metrics the notebook recorded",
}


def _iso(stamp: str) -> str:
    """ISO 8601 to the millisecond with a numeric offset, the form the profile asks for."""
    return dt.datetime.fromisoformat(stamp).isoformat(timespec="milliseconds")


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    return "Text"


def _package_id(name: str, info: dict[str, Any]) -> str:
    if info.get("local"):
        return f"#pkg-{name}"
    return f"https://pypi.org/project/{name}/{info['version']}/"


def _environment(kernel: str) -> dict[str, Any]:
    """The kernel's environment; the runner's, with the reason, when the kernel cannot be asked
    (the run already happened: its record must not be lost over its description)."""
    import sys

    from genesis_lab.errors import PipelineError
    from genesis_lab.pipelines.environment import interpreter_environment, kernel_environment

    try:
        return kernel_environment(kernel)
    except PipelineError as exc:
        env = interpreter_environment(sys.executable)
        env["kernel"] = kernel
        env["note"] = f"Listed from the runner's interpreter: the kernel's failed ({exc})."
        return env


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
    metrics: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    publisher: str | None = None,
) -> dict[str, Any]:
    """The ``ro-crate-metadata.json`` document of one run.

    ``files`` maps each file in the run folder to its sha256; ``metrics`` are the recorded
    values; ``environment`` is :func:`~genesis_lab.pipelines.environment.kernel_environment`
    of the challenge's kernel (probed when not given). ``packages`` (the versions in the cache
    key) is used only when the environment lacks one of them. ``publisher`` (default: the site
    file's ``dcat.publisher``) is the organisation publishing the crate.

    >>> from genesis_lab.pipelines.crate import PROFILES
    >>> PROFILES[1]
    'https://w3id.org/ro/wfrun/workflow/0.5'
    """
    from rocrate.model import ComputerLanguage, ContextEntity, Person
    from rocrate.rocrate import ROCrate

    if environment is None:
        environment = _environment(challenge.kernel)
    metrics = metrics or {}
    if publisher is None:
        from genesis_lab.settings import get_settings

        publisher = get_settings().dcat.publisher
    crate = ROCrate(version="1.1")
    crate.metadata.extra_terms = {"sha256": SHA256_TERM}

    def entity(eid: str, kind: str | list[str], **props: Any) -> ContextEntity:
        return crate.add(ContextEntity(crate, eid, {"@type": kind, **props}))

    root = crate.root_dataset
    root["name"] = f"{challenge.title}: run {run_id}"
    root["description"] = challenge.question
    root["datePublished"] = _iso(end)
    root["license"] = entity(_LICENSE[0], "CreativeWork", name=_LICENSE[1], identifier=_LICENSE[2])
    person = crate.add(Person(crate, f"#person-{owner}", {"name": owner}))
    root["author"] = person
    if publisher:
        root["publisher"] = entity(f"#org-{publisher.replace(' ', '-')}", "Organization",
                                   name=publisher)  # fmt: skip
    root["conformsTo"] = [
        entity(p, "CreativeWork", name=n, version=p.rsplit("/", 1)[1])
        for p, n in zip(PROFILES, _PROFILE_NAMES, strict=True)
    ]

    env = environment
    python = crate.add(
        ComputerLanguage(
            crate,
            "#python",
            {"name": "Python", "version": env["python"], "url": {"@id": "https://www.python.org/"}},
        )
    )
    installed = dict(env["packages"])
    for name, version in packages.items():
        if name != "python" and name not in installed:
            installed[name] = {"version": version, "local": False}
    pkg_entities = [
        entity(
            _package_id(name, info),
            "SoftwareApplication",
            name=name,
            softwareVersion=info["version"],
            **({} if info.get("local") else {"url": f"https://pypi.org/project/{name}/"}),
        )
        for name, info in installed.items()
    ]
    kernel = entity(
        "#kernel-environment",
        "SoftwareApplication",
        name=f"{env['implementation']} {env['python']} (kernel {env['kernel']!r})",
        description=env.get(
            "note", "The interpreter the notebook ran in, its platform and installed packages."
        ),
        softwareVersion=env["python"],
        operatingSystem=env["platform"],
        processorRequirements=env["machine"],
        softwareRequirements=pkg_entities,
    )
    software = [kernel]
    tools: list[ContextEntity] = []
    for a in inputs:
        if a["kind"] == "dataset":
            continue
        code = a.get("code_sha256") or a.get("sha256")
        tools.append(
            entity(
                f"#{a['kind']}-{a['id']}",
                "SoftwareApplication",
                name=a["title"],
                identifier=a["id"],
                additionalType=a["kind"],
                softwareVersion=a["version"],
                description=f"genesis-lab {a['kind']} {a['id']}; implemented in {a['source']}",
                **({"sha256": code} if code else {}),
            )
        )
    software += tools

    workflow = crate.add_workflow(
        dest_path="source.ipynb",
        main=True,
        lang=python,
        properties={
            "name": f"genesis-lab challenge {challenge.catalog_id}",
            "description": challenge.question,
            "encodingFormat": _MEDIA[".ipynb"],
            "version": source_sha256[:12],
            "sha256": source_sha256,
            "runtimePlatform": f"{env['implementation']} {env['python']}",
            "softwareRequirements": software,
            "conformsTo": {
                "@id": "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE"
            },
        },
    )

    def formal(identifier: str, name: str, kind: str, **props: Any) -> ContextEntity:
        return crate.add_formal_parameter(
            name, kind, identifier=identifier, properties={k: v for k, v in props.items() if v}
        )

    objects: list[ContextEntity] = []
    for name, p in challenge.parameters.items():
        fp = formal(
            f"#param-{name}",
            name,
            _TYPES[p.type],
            description=p.description,
            unitText=p.unit,
        )
        fp["defaultValue"] = str(p.default)
        pv = entity(
            f"#pv-{name}",
            "PropertyValue",
            name=name,
            value=parameters[name],
            exampleOfWork=fp,
            **({"unitText": p.unit} if p.unit else {}),
        )
        fp["workExample"] = pv
        workflow.append_to("input", fp)
        objects.append(pv)
    for a in inputs:
        if a["kind"] != "dataset":
            continue
        fp = formal(f"#input-{a['id']}", a["id"], "Dataset", description=a["title"])
        data = entity(
            f"#dataset-{a['id']}",
            "Dataset",
            name=a["title"],
            identifier=a["id"],
            version=a["version"],
            description=f"Catalog dataset {a['id']}, read from {a['source']}",
            exampleOfWork=fp,
            **({"sha256": a["sha256"]} if a.get("sha256") else {}),
            **({"url": a["source"]} if str(a["source"]).startswith("http") else {}),
        )
        fp["workExample"] = data
        workflow.append_to("input", fp)
        objects.append(data)
    objects += tools

    results: list[ContextEntity] = []
    for name, digest in sorted(files.items()):
        suffix = name[name.rfind(".") :]
        props = {"encodingFormat": _MEDIA.get(suffix, "application/octet-stream"), "sha256": digest}
        if name == "source.ipynb":
            continue
        fp = formal(f"#output-{name}", name, "File", description=_OUTPUTS.get(name, name))
        f = crate.add_file(dest_path=name, properties={**props, "exampleOfWork": fp})
        fp["workExample"] = f
        workflow.append_to("output", fp)
        results.append(f)
    for m in challenge.metrics.values():
        value = metrics.get(m.name)
        fp = formal(
            f"#metric-{m.name}",
            m.name,
            _value_type(value) if value is not None else "Float",
            description=m.description,
            unitText=m.unit,
        )
        workflow.append_to("output", fp)
        if value is None:
            continue
        mv = entity(
            f"#mv-{m.name}",
            "PropertyValue",
            name=m.name,
            value=value,
            exampleOfWork=fp,
            **({"unitText": m.unit} if m.unit else {}),
        )
        fp["workExample"] = mv
        results.append(mv)

    action = crate.add_action(
        workflow,
        identifier=f"#run-{run_id}",
        object=objects,
        result=results,
        properties={
            "@type": "CreateAction",
            "name": f"Run of challenge {challenge.id}",
            "description": (
                f"genesis-lab run {run_id} of challenge {challenge.id} by {owner}, "
                "executed with papermill"
            ),
            "startTime": _iso(start),
            "endTime": _iso(end),
            "actionStatus": _STATUS[status],
        },
    )
    action["agent"] = person
    if error:
        action["error"] = f"cell {error.get('cell')}: {error.get('ename')}: {error.get('evalue')}"
    root["mentions"] = action
    return crate.metadata.generate()
