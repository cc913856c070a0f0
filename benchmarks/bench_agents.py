"""Claims of the agents: regret on Branin and Hartmann-6, batches on a cluster, loop overhead.

Median over 10 seeds; each figure is printed beside the peers measured in the same run at the
same budget: random search and a plain optuna GPSampler ask/tell loop (the best library policy).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported (optuna's advice)

import statistics
import tempfile
import time
import warnings
from pathlib import Path

from _report import claim, context

SEEDS = range(10)

BATCH_REGRET = (
    "Batch of 4 on 2 workers (the campaign's default strategy) regret @48 / sequential regret "
    "@48, Hartmann-6"
)
CLAIMS = (
    "Branin simple regret @30 (campaign, bayes)",
    "Hartmann-6 simple regret @50 (campaign, bayes)",
    "Hartmann-6 regret @50: random / bayes",
    "Policy time per suggestion at 50 trials (GPSampler)",
    "Loop orchestration per iteration (bayes, Hartmann-6, 50 trials)",
    "Campaign loop time / plain optuna ask/tell loop (same GPSampler, seeds, budget 50)",
    "Loop orchestration per iteration (random policy, 200 trials, store fsync included)",
    BATCH_REGRET,
)


DETERMINISTIC = {"deterministic_objective": True}  # the test functions have no noise


def _startup(fn):
    return min(10, 2 * len(fn.space.dimensions) + 1)  # the campaign's default initial design


def _campaign(fn, policy, budget, seed, root, batch_size=1, client=None, **extra):
    from genesis_lab.agents import Campaign

    c = Campaign(
        fn.space,
        "y",
        policy,
        budget=budget,
        batch_size=batch_size,
        experiment=fn.function,
        seed=seed,
        policy_options={**DETERMINISTIC, **extra} if policy == "bayes" else None,
        name=f"{fn.name}-{policy}-b{batch_size}-{'-'.join(extra.values())}-s{seed}",
        store_root=root,
    )
    t0 = time.perf_counter()
    c.run(client)
    return c, time.perf_counter() - t0


def _plain_loop(fn, budget, seed, sampler):
    """Seconds for a plain optuna ask/tell loop with ``sampler`` (no campaign around it)."""
    import optuna

    from genesis_lab.agents.policies.optuna_policy import _distributions

    dists = _distributions(optuna, fn.space)
    t0 = time.perf_counter()
    study = optuna.create_study(sampler=getattr(optuna.samplers, sampler)(seed=seed))
    for _ in range(budget):
        trial = study.ask(dists)
        study.tell(trial, fn.function(trial.params)["y"])
    return time.perf_counter() - t0


def _plain_gp(fn, budget, seed, **options):
    """A plain optuna ask/tell loop with GPSampler: the library peer, no campaign around it."""
    import optuna

    from genesis_lab.agents.policies.optuna_policy import _distributions

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = _distributions(optuna, fn.space)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed, **options))
        best = []
        for _ in range(budget):
            trial = study.ask(dists)
            study.tell(trial, fn.function(trial.params)["y"])
            best.append(study.best_value)
    return best, time.perf_counter() - t0


def _regret_at(campaign, fn, n):
    return fn.regret(float(campaign.best_so_far()[n - 1]))


def main() -> None:
    from genesis_lab.agents.benchmark_functions import BRANIN, HARTMANN6

    root = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    med = statistics.median

    # -- Branin @ 30 --------------------------------------------------------------------------
    b_bayes, b_plain, b_default, b_rand = [], [], [], []
    opts = {**DETERMINISTIC, "n_startup_trials": _startup(BRANIN)}
    for s in SEEDS:
        c, _ = _campaign(BRANIN, "bayes", 30, s, root)
        b_bayes.append(_regret_at(c, BRANIN, 30))
        best, _ = _plain_gp(BRANIN, 30, s, **opts)
        b_plain.append(BRANIN.regret(best[-1]))
        best, _ = _plain_gp(BRANIN, 30, s)
        b_default.append(BRANIN.regret(best[-1]))
        c, _ = _campaign(BRANIN, "random", 30, s, root)
        b_rand.append(_regret_at(c, BRANIN, 30))
    claim(
        "Branin simple regret @30 (campaign, bayes)",
        med(b_bayes),
        0.01,
        unit="",
        details=f"peers @30: optuna GPSampler same options {med(b_plain):.4g}, at optuna defaults "
        f"{med(b_default):.4g}, random {med(b_rand):.4g}; 10 seeds",
    )

    # -- Hartmann-6 @ 50, loop overhead, policy time ---------------------------------------
    h_bayes, h_plain, h_default, h_rand, t_camp, t_plain, orch, ask_t = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    opts = {**DETERMINISTIC, "n_startup_trials": _startup(HARTMANN6)}
    seq_at48 = []
    for s in SEEDS:
        # alternate the order so drift on the shared machine hits both sides alike
        runs = (
            [("camp", None), ("plain", None)] if s % 2 == 0 else [("plain", None), ("camp", None)]
        )
        for kind, _ in runs:
            if kind == "camp":
                c, dt = _campaign(HARTMANN6, "bayes", 50, s, root)
                h_bayes.append(_regret_at(c, HARTMANN6, 50))
                seq_at48.append(_regret_at(c, HARTMANN6, 48))
                t_camp.append(dt)
                st = c.stats
                orch.append((st["loop_s"] - st["policy_s"] - st["experiment_s"]) / 50)
                t0 = time.perf_counter()
                c._policy.ask(1)  # the 51st suggestion: policy time at 50 trials
                ask_t.append(time.perf_counter() - t0)
            else:
                best, dt = _plain_gp(HARTMANN6, 50, s, **opts)
                h_plain.append(HARTMANN6.regret(best[-1]))
                t_plain.append(dt)
        c, _ = _campaign(HARTMANN6, "random", 50, s, root)
        h_rand.append(_regret_at(c, HARTMANN6, 50))
        best, _ = _plain_gp(HARTMANN6, 50, s)
        h_default.append(HARTMANN6.regret(best[-1]))
    peers = (
        f"peers @50: optuna GPSampler same options {med(h_plain):.4g}, at optuna defaults "
        f"{med(h_default):.4g}, random {med(h_rand):.4g}; 10 seeds"
    )
    claim(
        "Hartmann-6 simple regret @50 (campaign, bayes)", med(h_bayes), 0.05, unit="", details=peers
    )
    claim(
        "Hartmann-6 regret @50: random / bayes",
        med(h_rand) / max(med(h_bayes), 1e-12),
        10,
        op=">=",
        details=peers,
    )
    claim(
        "Policy time per suggestion at 50 trials (GPSampler)",
        med(ask_t),
        0.5,
        unit=" s",
        details=f"max over seeds {max(ask_t):.3f} s",
    )
    claim(
        "Loop orchestration per iteration (bayes, Hartmann-6, 50 trials)",
        med(orch) * 1000,
        15,
        unit=" ms",
        details="campaign loop time minus policy and experiment time",
    )
    claim(
        "Campaign loop time / plain optuna ask/tell loop (same GPSampler, seeds, budget 50)",
        med([a / b for a, b in zip(t_camp, t_plain, strict=True)]),
        1.10,
        details=f"median of 10 paired runs (same trajectory); campaign {med(t_camp):.2f} s vs "
        f"plain {med(t_plain):.2f} s",
    )

    # random policy: the loop is almost all orchestration, so show it too
    r_orch, r_camp, r_plain = [], [], []
    for s in SEEDS:
        c, dt = _campaign(HARTMANN6, "random", 200, 100 + s, root)
        st = c.stats
        r_orch.append((st["loop_s"] - st["policy_s"] - st["experiment_s"]) / 200)
        r_camp.append(dt)
        r_plain.append(_plain_loop(HARTMANN6, 200, 100 + s, "RandomSampler"))
    claim(
        "Loop orchestration per iteration (random policy, 200 trials, store fsync included)",
        med(r_orch) * 1000,
        15,
        unit=" ms",
        details=f"campaign {med(r_camp) / 200 * 1000:.2f} ms/trial vs plain optuna random "
        f"ask/tell {med(r_plain) / 200 * 1000:.2f} ms/trial (ratio "
        f"{med(r_camp) / med(r_plain):.2f}x, not a claim: the fsynced store dominates)",
    )

    # -- batches of 4 on a 2-worker cluster ------------------------------------------------
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        from genesis_lab.agents.policies.optuna_policy import DEFAULT_BATCH_STRATEGY

        batch: dict[str, tuple[list[float], list[float]]] = {}
        policy_s = []
        # the campaign's default (no option given) first, then the peers from issue #6
        for strategy in (None, "pending", "liar-worst"):
            extra = {} if strategy is None else {"batch_strategy": strategy}
            regrets, rounds = batch.setdefault(strategy or DEFAULT_BATCH_STRATEGY, ([], []))
            for s in SEEDS:
                c, _ = _campaign(HARTMANN6, "bayes", 48, s, root, batch_size=4, client=client,
                                 **extra)  # fmt: skip
                regrets.append(_regret_at(c, HARTMANN6, 48))
                rounds.append(c.stats["rounds"])
                if strategy is None:
                    policy_s.append(c.stats["policy_s"] / c.stats["rounds"])
        regrets, rounds = batch[DEFAULT_BATCH_STRATEGY]
        peers = ", ".join(
            f"{name} {med(r):.4g} ({med(r) / max(med(seq_at48), 1e-12):.3g}x)"
            for name, (r, _) in batch.items()
            if name != DEFAULT_BATCH_STRATEGY
        )
        claim(
            BATCH_REGRET,
            med(regrets) / max(med(seq_at48), 1e-12),
            2.0,
            details=f"default strategy {DEFAULT_BATCH_STRATEGY}: batch {med(regrets):.4g} in "
            f"{med(rounds):g} rounds vs sequential "
            f"{med(seq_at48):.4g} in 48 rounds; other batch strategies: {peers}; "
            f"random @48 {med(h_rand):.4g}; policy {med(policy_s):.2f} s per batch",
        )
        # 48 evaluations in batches of 4 are 12 rounds by construction: context, not a claim
        context(f"Batch ({DEFAULT_BATCH_STRATEGY}) rounds / sequential rounds at 48 evaluations",
                med(rounds) / 48, details="batch size 4: 12 rounds of 48 by construction")  # fmt: skip


if __name__ == "__main__":
    main()
