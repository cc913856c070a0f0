"""Session requests: the allow-list, typed values, and readable refusals."""

from __future__ import annotations

import pytest

from genesis_lab.errors import AllocationError
from genesis_lab.hub.options import FIELDS, parse_request, render_form

DEFAULTS = {"cores": "1", "memory": "2GB", "walltime": "01:00:00"}


def test_form_lists_become_typed_values():
    r = parse_request({"allocation": ["fusion"], "cores": ["4"], "memory": ["512MiB"],
                       "walltime": ["2:30"]}, DEFAULTS)  # fmt: skip
    assert (r.allocation, r.cores, r.memory, r.walltime) == ("fusion", 4, "512MiB", "02:30:00")
    assert r.memory_bytes == 512 * 2**20
    assert r.slurm_memory == "512M"
    assert r.as_options() == {"allocation": "fusion", "cores": "4", "memory": "512MiB",
                              "walltime": "02:30:00"}  # fmt: skip


def test_missing_fields_take_the_defaults():
    r = parse_request({"allocation": "a"}, DEFAULTS)
    assert (r.cores, r.memory, r.walltime) == (1, "2GB", "01:00:00")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"allocation": "a", "image": "evil:latest"}, "Unknown session option(s) 'image'"),
        ({"allocation": ""}, "Choose an allocation"),
        ({"allocation": "a; rm -rf /"}, "not a valid allocation id"),
        ({"allocation": "a", "cores": "0"}, "cores must be a whole number"),
        ({"allocation": "a", "cores": "two"}, "cores must be a whole number"),
        ({"allocation": "a", "memory": "lots"}, "memory"),
        ({"allocation": "a", "walltime": "soon"}, "walltime"),
        ({"allocation": "a", "walltime": "00:00:00"}, "longer than 00:00:00"),
        ({"allocation": ["a", "b"]}, "expected one value"),
    ],
)
def test_bad_requests_are_refused_with_the_field_named(options, fragment):
    with pytest.raises(AllocationError) as err:
        parse_request(options, DEFAULTS)
    assert fragment in str(err.value)


def test_every_allowed_field_is_documented_in_the_refusal():
    with pytest.raises(AllocationError) as err:
        parse_request({"allocation": "a", "x": 1}, DEFAULTS)
    for name in FIELDS:
        assert name in str(err.value)


def test_form_shows_only_the_given_allocations_and_escapes_text():
    from genesis_lab.compute.allocations import Allocation

    mine = [Allocation(id="fusion", account="fes", scheduler="slurm", queue="debug", cores=8,
                       description="<script>")]  # fmt: skip
    html = render_form(mine, {**DEFAULTS, "memory": '"><script>'})
    assert 'value="fusion"' in html and "queue debug" in html and "cores ≤ 8" in html
    assert "<script>" not in html
    assert "No allocation lists you" in render_form([], DEFAULTS)
