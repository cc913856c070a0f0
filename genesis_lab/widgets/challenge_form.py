"""``ChallengeForm``: a form built from a challenge's parameter schema that runs it as a pipeline.

The schema is the challenge's own (``challenge.yaml``), checked by ``Challenge.validate_parameters``
exactly as the CLI and the runner check it; a bad value is shown on its control.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from genesis_lab.errors import GenesisError
from genesis_lab.pipelines import Challenge, Parameter, get_challenge
from genesis_lab.widgets.markup import error_html, table_html

__all__ = ["ChallengeForm", "control_for_parameter"]

ROW = w.Layout(flex_flow="row wrap", max_width="100%")


def control_for_parameter(p: Parameter) -> w.ValueWidget:
    """The widget for one challenge parameter: a number box, a checkbox, a list or a text box."""
    label = f"{p.name} [{p.unit}]" if p.unit and p.unit != "1" else p.name
    common: dict[str, Any] = {
        "description": label,
        "tooltip": f"{p.description} ({p.bounds_text()})".strip(),
        "style": {"description_width": "12em"},
        "layout": w.Layout(width="28em", max_width="100%"),
    }
    if p.choices is not None:
        return w.Dropdown(options=list(p.choices), value=p.default, **common)
    if p.type == "bool":
        return w.Checkbox(value=bool(p.default), **common)
    if p.type == "int":
        return w.IntText(value=int(p.default), **common)
    if p.type == "float":
        return w.FloatText(value=float(p.default), **common)
    return w.Text(value=str(p.default), **common)


class ChallengeForm(w.VBox):
    """Parameters of a challenge as a form, a Run button, and the run's metrics.

    >>> form = ChallengeForm("reactor-period")  # doctest: +SKIP
    >>> form.controls["rho_max"].value = 0.8  # doctest: +SKIP
    >>> form.run().metrics  # doctest: +SKIP
    """

    def __init__(self, challenge: str | Challenge, **kwargs: Any):
        self.challenge = get_challenge(challenge) if isinstance(challenge, str) else challenge
        self.result: Any = None
        self.controls: dict[str, w.ValueWidget] = {}
        self.messages: dict[str, w.HTML] = {}
        rows = []
        for name, p in self.challenge.parameters.items():
            control, message = control_for_parameter(p), w.HTML()
            control.add_class(f"genesis-challenge-param-{name}")
            self.controls[name], self.messages[name] = control, message
            rows.append(w.HBox([control, message], layout=ROW))
        self.force = w.Checkbox(value=False, description="re-run even if cached")
        self.run_button = w.Button(description="Run", icon="play", button_style="primary")
        self.run_button.on_click(lambda _b: self.run())
        self.status = w.HTML()
        self.metrics = w.HTML()
        header = w.HTML(
            f"<h4>{html.escape(self.challenge.title)}</h4><p>{html.escape(self.challenge.question)}</p>"
        )
        super().__init__(
            [
                header,
                *rows,
                w.HBox([self.run_button, self.force, self.status], layout=ROW),
                self.metrics,
            ],
            **{"layout": w.Layout(max_width="100%"), **kwargs},
        )
        self.add_class("genesis-challenge-form")

    def values(self) -> dict[str, Any]:
        return {name: c.value for name, c in self.controls.items()}

    def checked(self) -> dict[str, Any] | None:
        """The values after the challenge's own validation, or ``None`` with messages shown."""
        ok = True
        for name, value in self.values().items():
            try:
                self.challenge.validate_parameters({name: value})
                self.messages[name].value = ""
            except GenesisError as exc:
                ok = False
                self.messages[name].value = error_html(exc)
        return self.challenge.validate_parameters(self.values()) if ok else None

    def run(self) -> Any:
        """Run the challenge with the form's values (the cache answers an identical run)."""
        params = self.checked()
        if params is None:
            self.status.value = "Fix the highlighted parameter to run."
            return None
        from genesis_lab.pipelines import run

        self.status.value = "running…"
        try:
            self.result = run(self.challenge.id, params, force=self.force.value)
        except GenesisError as exc:
            self.status.value = error_html(exc)
            return None
        origin = "from the cache" if self.result.cached else "completed"
        self.status.value = f"run {html.escape(self.result.run_id)} {origin}"
        self.metrics.value = table_html(self.result.metrics.items())
        return self.result
