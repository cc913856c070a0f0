"""``SimulatorPanel``: controls built from a simulator's parameter schema, a run button, a live plot.

Values are checked by the simulator's own ``Parameter.check`` and its validity relations; a bad
value is shown on its control (a broken relation on every control it names), never as a
traceback. The validity domain (relations and notes) is listed under the controls.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from genesis_lab.errors import GenesisError
from genesis_lab.simulators import Parameter, Simulator
from genesis_lab.widgets.markup import error_html, table_html

__all__ = ["SimulatorPanel", "control_for"]

SLIDER_STEPS = 200
ROW = w.Layout(flex_flow="row wrap", max_width="100%")


def control_for(p: Parameter) -> w.ValueWidget:
    """The widget for one parameter: a slider within its bounds, a box, or a choice list."""
    label = f"{p.name} [{p.unit}]" if p.unit and p.unit != "1" else p.name
    style = {"description_width": "12em"}
    layout = w.Layout(width="32em", max_width="100%")
    common: dict[str, Any] = {
        "description": label,
        "description_allow_html": False,
        "tooltip": p.description,
        "style": style,
        "layout": layout,
        "continuous_update": False,
    }
    if p.type == "choice":
        return w.Dropdown(options=list(p.choices), value=p.default, description=label, style=style)
    if p.type == "bool":
        return w.Checkbox(value=bool(p.default), description=label, style=style)
    if p.bounds is None:
        cls = w.IntText if p.type == "int" else w.FloatText
        common.pop("continuous_update")
        return cls(value=p.default, **common)
    lo, hi = p.bounds
    if p.type == "int":
        return w.IntSlider(value=int(p.default), min=int(lo), max=int(hi), step=1, **common)
    step = (hi - lo) / SLIDER_STEPS
    return w.FloatSlider(
        value=float(p.default), min=lo, max=hi, step=step, readout_format=".4g", **common
    )


class SimulatorPanel(w.VBox):
    """Sliders for every parameter, a run button and a live plot of the output.

    >>> import genesis_lab as gl
    >>> panel = gl.widgets.SimulatorPanel(gl.get_simulator("biotechnology/michaelis-menten"))  # doctest: +SKIP
    """

    def __init__(
        self, simulator: Simulator, *, seed: int = 0, auto_run: bool = True, **kwargs: Any
    ):
        self.simulator = simulator
        self.seed = seed
        self.runs = 0
        self.result = None
        self.controls: dict[str, w.ValueWidget] = {}
        self.messages: dict[str, w.HTML] = {}
        rows = []
        for p in simulator.parameters:
            control = control_for(p)
            control.add_class(f"genesis-param-{p.name}")
            message = w.HTML()
            message.add_class("genesis-param-error")
            self.controls[p.name], self.messages[p.name] = control, message
            rows.append(w.HBox([control, message], layout=ROW))
            if auto_run:
                control.observe(self._on_change, names="value")
        self.run_button = w.Button(description="Run", icon="play", button_style="primary")
        self.run_button.add_class("genesis-sim-run")
        self.run_button.on_click(lambda _b: self.run())
        self.validity = w.HTML(_validity_html(simulator))
        self.validity.add_class("genesis-sim-validity")
        self.status = w.HTML()
        self.status.add_class("genesis-sim-status")
        self.summary = w.HTML()
        self.summary.add_class("genesis-sim-summary")
        self.plot = w.Output()
        self.plot.add_class("genesis-sim-plot")
        header = w.HTML(f"<h4>{html.escape(simulator.title)}</h4>")
        super().__init__(
            [
                header,
                *rows,
                self.validity,
                w.HBox([self.run_button, self.status], layout=ROW),
                self.summary,
                self.plot,
            ],
            **{"layout": w.Layout(max_width="100%"), **kwargs},
        )
        self.add_class("genesis-simulator-panel")
        from genesis_lab.widgets.plots import ensure_bokeh

        ensure_bokeh()
        if auto_run:
            self.run()

    def values(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: c.value for name, c in self.controls.items()}

    def _on_change(self, _change: Any) -> None:
        self.run()

    def _check(self) -> dict[str, Any] | None:
        ok: dict[str, Any] = {}
        for name, value in self.values().items():
            try:
                ok[name] = self.simulator.parameter(name).check(value)
                self.messages[name].value = ""
                self.controls[name].remove_class("genesis-invalid")
            except GenesisError as exc:
                self.messages[name].value = error_html(exc)
                self.controls[name].add_class("genesis-invalid")
        if len(ok) != len(self.controls):
            self.status.value = "Fix the highlighted parameter to run."
            return None
        for relation in self.simulator.relations:
            if len(relation.failing({k: [ok[k]] for k in relation.parameters})):
                exc = relation.error(self.simulator.id, {k: [v] for k, v in ok.items()}, 0)
                for name in relation.parameters:
                    self.messages[name].value = error_html(f"breaks {relation.text}")
                    self.controls[name].add_class("genesis-invalid")
                self.status.value = error_html(exc)
                return None
        return ok

    def run(self) -> Any:
        """Run the simulator at the controls' values; update the summary and the plot."""
        params = self._check()
        if params is None:
            return None
        try:
            ds = self.simulator.run(params, seed=self.seed)
        except GenesisError as exc:
            self.status.value = error_html(exc)
            return None
        self.runs += 1
        self.result = ds
        self.summary.value = _summary_html(self.simulator, ds)
        self._draw(ds)
        self.status.value = f"run {self.runs}"  # last: says the summary and plot are this run's
        return ds

    def _draw(self, ds: Any) -> None:
        from IPython.display import display

        from genesis_lab.widgets.plots import dataset_plot

        self.plot.clear_output(wait=True)
        with self.plot:
            plot = dataset_plot(ds)
            if plot is not None:
                display(plot)


def _validity_html(simulator: Simulator) -> str:
    """The validity domain: each relation with its reason, then the notes."""
    items = [
        f"<li><code>{html.escape(r.text)}</code>: {html.escape(r.why)}</li>"
        for r in simulator.relations
    ]
    items += [f"<li>{html.escape(n)}</li>" for n in simulator.validity_notes]
    if not items:
        items = ["<li>every parameter within its bounds</li>"]
    return f"<details><summary>Valid where</summary><ul>{''.join(items)}</ul></details>"


def _summary_html(simulator: Simulator, ds: Any) -> str:
    rows = [
        (name, f"{float(ds[name].values):.6g} {ds[name].attrs.get('units', '')}")
        for name in simulator.scalar_outputs()
        if name in ds and ds[name].ndim == 0
    ]
    return table_html(rows, value_class="genesis-out-")
