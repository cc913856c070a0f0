"""A closed-loop campaign: each round the policy proposes a batch, it runs, results are told back.

Every trial is stored as it finishes; a campaign with the same name picks up where it stopped.
"""

from __future__ import annotations

import datetime as dt
import difflib
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from genesis_lab.agents import results
from genesis_lab.agents.instrument import Instrument
from genesis_lab.agents.objective import Objective
from genesis_lab.agents.policies import Policy, make_policy
from genesis_lab.agents.runner import (
    DaskRunner,
    InstrumentRunner,
    LocalRunner,
    as_experiment,
    describe_experiment,
)
from genesis_lab.agents.space import Space
from genesis_lab.agents.store import CampaignStore
from genesis_lab.errors import CampaignError, UnknownOutputError

if TYPE_CHECKING:
    from pathlib import Path

    import xarray as xr

__all__ = ["Campaign"]

_SAME = ("space", "objective", "policy", "batch_size", "seed")


class Campaign:
    """Explore a design space for the best value(s) of an experiment's outputs.

    ``space`` is a :class:`Space`, a mapping for :meth:`Space.from_dict`, or a simulator (its
    parameter schema; the simulator is then the experiment too). ``objective`` is an output
    name (minimised), ``{name: "min"|"max", ...}`` or an :class:`Objective`; ``constraints`` is
    ``{name: ("<=" | ">=", bound)}``. ``experiment`` is a simulator, an :class:`Instrument`
    or a function ``params -> {output: value}``.

    A simulator's objective and constraint names are checked against its outputs before any
    trial runs; a function's or instrument's against what its first result returns. A run in
    which every trial failed raises.

    >>> c = Campaign({"x": (-2.0, 2.0)}, "y", experiment=lambda p: {"y": (p["x"] - 1) ** 2},
    ...              policy="random", budget=8, seed=0)
    >>> best = c.run().best()
    >>> best.params["x"], best.value  # doctest: +SKIP
    (0.97..., 0.0008...)
    """

    def __init__(
        self,
        space: Any,
        objective: Any,
        policy: str | Policy = "bayes",
        *,
        batch_size: int = 1,
        budget: int = 20,
        experiment: Any = None,
        constraints: Any = None,
        name: str | None = None,
        seed: int | None = None,
        fixed: Mapping[str, Any] | None = None,
        policy_options: Mapping[str, Any] | None = None,
        store_root: Path | None = None,
    ) -> None:
        if isinstance(space, Space):
            self.space = space
        elif isinstance(space, Mapping):
            self.space = Space.from_dict(space, fixed)
        elif hasattr(space, "parameters"):
            self.space = Space.from_simulator(space, fixed=fixed)
            experiment = space if experiment is None else experiment
        else:
            raise CampaignError(
                f"space={space!r}: give a Space, a mapping of dimensions, or a simulator"
            )
        if fixed and isinstance(space, Space):
            self.space = Space(self.space.dimensions, {**self.space.fixed, **fixed})
        self.objective = Objective.parse(objective, constraints)
        for label, value in (("batch_size", batch_size), ("budget", budget)):
            if not isinstance(value, int) or value < 1:
                raise CampaignError(f"{label}={value!r} must be a positive integer")
        self.batch_size = batch_size
        self.budget = budget
        self.seed = seed
        self.experiment = experiment
        self.policy_name = policy if isinstance(policy, str) else policy.name
        self._policy_arg = policy
        self._policy_options = dict(policy_options or {})
        self._policy: Policy | None = None
        self._owned: list[Any] = []  # clients/clusters this campaign opened and must close
        self.name = (
            name or f"campaign-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
        )
        self.store = CampaignStore(self.name, store_root)
        self.stats = {"policy_s": 0.0, "experiment_s": 0.0, "loop_s": 0.0, "rounds": 0}
        self._check_outputs(_declared_outputs(experiment), _describe(experiment))
        self._sync_spec()

    # -- spec -------------------------------------------------------------------------------
    def spec(self) -> dict[str, Any]:
        """What defines the campaign, as stored in ``campaign.json``."""
        from genesis_lab import __version__

        return {
            "name": self.name,
            "space": self.space.to_dict(),
            "objective": self.objective.to_dict(),
            "policy": self.policy_name,
            "policy_options": self._policy_options,
            "batch_size": self.batch_size,
            "budget": self.budget,
            "seed": self.seed,
            "experiment": describe_experiment(self.experiment) if self.experiment else None,
            "created": dt.datetime.now(dt.UTC).isoformat(),
            "genesis_lab_version": __version__,
        }

    def _sync_spec(self) -> None:
        new = self.spec()
        if not self.store.exists():
            self.store.write_spec(new)
            return
        old = self.store.read_spec()
        changed = [k for k in _SAME if old.get(k) != _jsonable(new[k])]
        if changed:
            raise CampaignError(
                f"a campaign named {self.name!r} already exists with other {', '.join(changed)}; "
                "resume it with the same settings or choose another name"
            )
        if old.get("budget") != self.budget:
            old["budget"] = self.budget
            self.store.write_spec(old)

    @classmethod
    def open(cls, name: str, experiment: Any = None, *, store_root: Path | None = None) -> Campaign:
        """A stored campaign by name (give ``experiment`` again to run more trials).

        >>> Campaign.open("campaign-20261123-...")  # doctest: +SKIP
        """
        spec = CampaignStore(name, store_root).read_spec()
        return cls(
            Space.from_spec(spec["space"]),
            Objective.from_spec(spec["objective"]),
            spec["policy"],
            batch_size=spec["batch_size"],
            budget=spec["budget"],
            experiment=experiment,
            name=name,
            seed=spec.get("seed"),
            policy_options=spec.get("policy_options"),
            store_root=store_root,
        )

    # -- the loop ---------------------------------------------------------------------------
    @property
    def trials(self) -> list[dict[str, Any]]:
        """Every finished trial (complete or failed), in the order they finished."""
        return self.store.trials()

    def _make_runner(self, client: Any) -> Any:
        if isinstance(self.experiment, Instrument) and not callable(self.experiment):
            return InstrumentRunner(self.experiment)
        experiment = as_experiment(self.experiment, self.space.fixed, self.seed)
        if client is None:
            return LocalRunner(experiment)
        if client == "session":  # the session's allocation: SLURM/PBS/LSF jobs or a LocalCluster
            from genesis_lab.compute import cluster

            client = cluster()
            self._owned.append(client)
            if hasattr(client, "job_script"):  # a dask-jobqueue cluster starts with no jobs
                client.scale(jobs=self.batch_size)
        if not hasattr(client, "submit"):  # a cluster object: connect a client to it
            from distributed import Client

            client = Client(client)
            self._owned.insert(0, client)
        return DaskRunner(experiment, client)

    def run(
        self,
        client: Any = None,
        *,
        max_rounds: int | None = None,
        on_trial: Callable[[dict[str, Any]], None] | None = None,
    ) -> Campaign:
        """Run rounds until the budget is spent; trials already in the store are not re-run.

        ``client`` is a ``distributed.Client``, a cluster, or ``"session"`` for the session's
        cluster (``genesis_lab.compute.cluster()``, closed at the end); without one, trials
        run in this process.
        """
        if self.experiment is None:
            raise CampaignError(
                f"campaign {self.name!r} has no experiment: pass experiment= (a simulator, "
                "an Instrument or a function)"
            )
        self._check_outputs(_declared_outputs(self.experiment), _describe(self.experiment))
        loop_t0 = time.perf_counter()
        done = self.store.trials()
        policy = self._ensure_policy(done)
        runner = self._make_runner(client)
        n_done = len(done)
        rounds = 0
        first_round = max((t.get("round", -1) for t in done), default=-1) + 1
        try:
            while n_done < self.budget and (max_rounds is None or rounds < max_rounds):
                t0 = time.perf_counter()
                batch = policy.ask(min(self.batch_size, self.budget - n_done))
                self.stats["policy_s"] += time.perf_counter() - t0
                if not batch:
                    break
                round_no = first_round + rounds
                t_exp = time.perf_counter()
                by_key = {s.key: s.params for s in batch}
                t_inner = 0.0
                for key, outcome in runner.run([(s.key, s.params) for s in batch]):
                    t_rec = time.perf_counter()
                    record = self._record(n_done, round_no, by_key[key], outcome)
                    self.store.append(record)
                    if outcome.outputs is not None:  # a misspelt name fails every trial: stop
                        self._check_outputs(sorted(outcome.outputs), _describe(self.experiment))
                    t_pol = time.perf_counter()
                    policy.tell(
                        key,
                        record["values"] if record["status"] == "complete" else None,
                        record.get("violations", []),
                    )
                    t_end = time.perf_counter()
                    self.stats["policy_s"] += t_end - t_pol
                    t_inner += t_end - t_rec
                    n_done += 1
                    done.append(record)
                    if on_trial is not None:
                        on_trial(record)
                self.stats["experiment_s"] += time.perf_counter() - t_exp - t_inner
                rounds += 1
        finally:
            self.store.close()
            while self._owned:
                self._owned.pop(0).close()
            self.stats["rounds"] += rounds
            self.stats["loop_s"] += time.perf_counter() - loop_t0
        if done and not any(t["status"] == "complete" for t in done):
            errors = sorted({str(t.get("error") or "no error recorded") for t in done})
            raise CampaignError(
                f"campaign {self.name!r}: every one of its {len(done)} trials failed, so there "
                f"is no result. Errors: {'; '.join(errors[:3])}"
                + (f" (and {len(errors) - 3} other kinds)" if len(errors) > 3 else "")
                + ". Fix the experiment (its trials are kept in the store) and run again."
            )
        return self

    def _check_outputs(self, outputs: list[str] | None, what: str) -> None:
        """Raise :class:`UnknownOutputError` if an objective or constraint is not in ``outputs``."""
        if not outputs:
            return
        wanted = [("objective", t.name) for t in self.objective.targets]
        wanted += [("constraint", c.name) for c in self.objective.constraints]
        for role, name in wanted:
            if name in outputs:
                continue
            close = difflib.get_close_matches(name, outputs, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownOutputError(
                f"{role} {name!r} is not an output of {what}; allowed values: "
                f"{', '.join(outputs)}.{hint}",
                field=name,
                allowed=list(outputs),
            )

    def _ensure_policy(self, done: list[dict[str, Any]]) -> Policy:
        if self._policy is None:
            t0 = time.perf_counter()
            self._policy = make_policy(
                self._policy_arg,
                self.space,
                self.objective,
                budget=self.budget,
                seed=_resume_seed(self.seed, len(done)),
                options=self._policy_options,
            )
            for t in done:
                self._policy.replay(
                    t["params"],
                    t["values"] if t["status"] == "complete" else None,
                    t.get("violations", []),
                )
            self.stats["policy_s"] += time.perf_counter() - t0
        return self._policy

    def _record(
        self, number: int, round_no: int, params: dict[str, Any], outcome: Any
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "number": number,
            "round": round_no,
            "params": params,
            "status": "failed",
            "outputs": outcome.outputs,
            "error": outcome.error,
            "started": outcome.started,
            "finished": outcome.finished,
            "duration_s": outcome.duration_s,
        }
        if outcome.extra:
            record.update(outcome.extra)
        if outcome.outputs is not None:
            try:
                values = self.objective.values(outcome.outputs)
                violations = self.objective.violations(outcome.outputs)
            except CampaignError as exc:
                record["error"] = str(exc)
                return record
            record.update(
                status="complete",
                values=values,
                violations=violations,
                feasible=all(v <= 0 for v in violations),
            )
        return record

    # -- results ----------------------------------------------------------------------------
    def best(self) -> results.Trial | None:
        """The best feasible trial so far (single objective), or ``None`` if none is feasible.

        It is a dict of the stored record with ``.params``, ``.value`` and ``.values``.

        >>> c.best().params, c.best().value  # doctest: +SKIP
        ({'x': 0.97}, 0.0009)
        """
        found = results.best(self.trials, self.objective)
        return results.Trial(found) if found is not None else None

    @property
    def best_params(self) -> dict[str, Any]:
        """The parameters of the best feasible trial (as optuna's ``study.best_params``)."""
        return self._best_or_raise().params

    @property
    def best_value(self) -> float:
        """The objective value of the best feasible trial (as optuna's ``study.best_value``)."""
        return self._best_or_raise().value

    def _best_or_raise(self) -> results.Trial:
        found = self.best()
        if found is None:
            raise CampaignError(
                f"campaign {self.name!r} has no feasible trial yet "
                f"({len(self.trials)} trials stored); run it, or relax its constraints"
            )
        return found

    def best_so_far(self) -> Any:
        """The best feasible value after each trial (a numpy array)."""
        return results.best_so_far(self.trials, self.objective)

    def pareto_front(self) -> list[dict[str, Any]]:
        """Feasible trials no other feasible trial dominates (several objectives)."""
        return [dict(t) for t in results.pareto_front(self.trials, self.objective)]

    def plot_convergence(self) -> Any:
        """A holoviews plot of each trial's value and the best so far."""
        return results.convergence_plot(self.trials, self.objective, f"Campaign {self.name}")

    def status(self) -> dict[str, Any]:
        """Counts and the best value, JSON-ready."""
        trials = self.trials
        out: dict[str, Any] = {
            "name": self.name,
            "policy": self.policy_name,
            "budget": self.budget,
            "batch_size": self.batch_size,
            "trials": len(trials),
            "complete": sum(t["status"] == "complete" for t in trials),
            "failed": sum(t["status"] == "failed" for t in trials),
            "finished": len(trials) >= self.budget,
            "objective": self.objective.to_dict(),
        }
        if len(self.objective.targets) == 1:
            b = self.best()
            out["best"] = {"params": b["params"], "values": b["values"]} if b else None
        else:
            out["pareto_front"] = [
                {"params": t["params"], "values": t["values"]} for t in self.pareto_front()
            ]
        return out

    def _repr_html_(self) -> str:
        from genesis_lab.catalog.html_view import html_card

        st = self.status()
        goal = ", ".join(f"{t.direction} {t.name}" for t in self.objective.targets)
        rows: list[tuple[str, object]] = [
            ("objective", goal),
            *(("constraint", f"{c.name} {c.op} {c.bound:g}") for c in self.objective.constraints),
            ("space", ", ".join(self.space.names)),
            ("trials", f"{st['trials']} of {st['budget']} ({st['complete']} complete, "
                       f"{st['failed']} failed)"),
        ]  # fmt: skip
        if "best" in st:
            best = st["best"]
            rows.append(("best value", f"{best['values'][0]:.6g}" if best else "none yet"))
            if best:
                rows.extend((f"best {k}", _short(v)) for k, v in best["params"].items())
        else:
            rows.append(("Pareto front", f"{len(st['pareto_front'])} trials"))
        exp = describe_experiment(self.experiment) if self.experiment is not None else "none"
        return html_card(
            f"Campaign {self.name}",
            rows,
            subtitle=f"{self.policy_name} policy, batch {self.batch_size}; experiment: {exp}",
        )

    def to_dataset(self) -> xr.Dataset:
        """Every trial as an ``xarray.Dataset`` along ``trial``, with provenance in ``attrs``."""
        import json

        spec = self.store.read_spec()
        ds = results.to_dataset(
            self.trials,
            self.objective,
            parameter_names=self.space.names,
            attrs={
                "title": f"Campaign {self.name}",
                "campaign": self.name,
                "campaign_spec": json.dumps(spec, default=str),
                "policy": self.policy_name,
                "experiment": spec.get("experiment") or "",
                "provenance_source": f"genesis_lab.agents campaign {self.name}",
                "provenance_version": spec.get("genesis_lab_version", ""),
                "created": spec.get("created", ""),
                "exported": dt.datetime.now(dt.UTC).isoformat(),
            },
        )
        for d in self.space.dimensions:
            if d.unit:
                ds[d.name].attrs["units"] = d.unit
        return ds

    def export(self, dataset_id: str, **metadata: Any) -> Any:
        """Save the campaign as a catalog dataset (zarr + catalog entry) with its provenance.

        >>> campaign.export("advanced-manufacturing/laser-campaign-1", title="...")  # doctest: +SKIP
        """
        from genesis_lab.data.register import save_dataset  # the data layer's writer

        ds = self.to_dataset()
        metadata.setdefault("title", f"Campaign {self.name}")
        metadata.setdefault(
            "description",
            f"Trials of campaign {self.name} ({self.policy_name} policy, {len(ds.trial)} trials) "
            f"over {', '.join(self.space.names)}.",
        )
        metadata.setdefault("source", f"genesis_lab.agents campaign {self.name}")
        metadata.setdefault(
            "parameters",
            {"policy": self.policy_name, "budget": self.budget, "batch_size": self.batch_size,
             "seed": self.seed, "objective": self.objective.to_dict()},
        )  # fmt: skip
        sim_id = getattr(self.experiment, "id", None)
        if isinstance(sim_id, str) and "/" in sim_id:
            metadata.setdefault("derived_from", [sim_id])
        return save_dataset(ds, dataset_id, **metadata)


def _declared_outputs(experiment: Any) -> list[str] | None:
    """The scalar outputs a simulator declares (``None`` when the experiment declares none)."""
    scalar = getattr(experiment, "scalar_outputs", None)
    if not callable(scalar):
        return None
    return sorted(scalar()) or None


def _describe(experiment: Any) -> str:
    sid = getattr(experiment, "id", None)
    if isinstance(sid, str):
        return f"simulator {sid}"
    return "the experiment (its first result)"


def _short(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _resume_seed(seed: int | None, n_done: int) -> int | None:
    """A fresh stream on resume, so a seeded policy does not propose its first points again."""
    if seed is None or n_done == 0:
        return seed
    return (seed * 1_000_003 + n_done) % 2**32


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
