"""ChallengeForm: controls from challenge.yaml, the runner's own validation, a real papermill run."""

import ipywidgets as w

from genesis_lab.widgets import ChallengeForm


def test_form_follows_the_schema_and_refuses_bad_values(demo_challenge):
    form = ChallengeForm("demo")
    assert list(form.controls) == ["n", "scale", "fail", "record", "sleep", "mode"]
    assert isinstance(form.controls["n"], w.IntText)
    assert isinstance(form.controls["fail"], w.Checkbox)
    assert form.controls["mode"].options == ("sum", "square")
    form.controls["n"].value = 5000  # the schema allows 1..1000
    assert form.run() is None
    assert "n" in form.messages["n"].value and "1000" in form.messages["n"].value
    assert form.messages["scale"].value == ""
    assert "Fix the highlighted parameter" in form.status.value


def test_form_runs_the_pipeline_and_shows_metrics(demo_challenge):
    form = ChallengeForm("demo")
    form.controls["n"].value = 4
    form.controls["scale"].value = 2.0
    result = form.run()
    assert result.metrics["total"] == 12.0  # 2 * (0 + 1 + 2 + 3)
    assert "12.0" in form.metrics.value
    assert "completed" in form.status.value
    again = form.run()
    assert again.cached and again.run_id == result.run_id
    assert "from the cache" in form.status.value


def test_a_failed_run_is_shown_not_raised(demo_challenge):
    form = ChallengeForm("demo")
    form.controls["fail"].value = True
    assert form.run() is None
    assert "asked to fail" in form.status.value
