"""The typed parameter schema: types, bounds, choices, unknown and crafted names."""

import math

import pytest

from genesis_lab.errors import ParameterError
from genesis_lab.pipelines.parameters import Parameter, check_name, validate_parameters

SCHEMA = {
    "n": Parameter(name="n", type="int", default=3, min=1, max=100),
    "rho": Parameter(name="rho", type="float", default=0.5, min=0, max=1, unit="pcm"),
    "flag": Parameter(name="flag", type="bool", default=False),
    "mode": Parameter(name="mode", type="str", default="a", choices=["a", "b"]),
}


def test_defaults_are_filled_and_strings_converted():
    out = validate_parameters(SCHEMA, {"n": "7", "rho": "0.25", "flag": "yes", "mode": "b"})
    assert out == {"n": 7, "rho": 0.25, "flag": True, "mode": "b"}
    assert validate_parameters(SCHEMA, {}) == {"n": 3, "rho": 0.5, "flag": False, "mode": "a"}


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("n", 0, "out of bounds; allowed: int in [1, 100]"),
        ("n", 101, "out of bounds"),
        ("n", 2.5, "not a valid int"),
        ("n", True, "not a valid int"),
        ("n", "seven", "not a valid int"),
        ("rho", 1.5, "float in [0, 1] pcm"),
        ("rho", math.nan, "not a valid float"),
        ("rho", "inf", "not a valid float"),
        ("flag", "maybe", "true or false"),
        ("mode", "c", "one of 'a', 'b'"),
        ("mode", 3, "not a valid str"),
    ],
)
def test_bad_values_name_the_parameter_and_what_is_allowed(name, value, fragment):
    with pytest.raises(ParameterError) as err:
        validate_parameters(SCHEMA, {name: value})
    assert repr(name) in str(err.value)
    assert fragment in str(err.value)


@pytest.mark.parametrize("name", ["x = 1; import os #", "nope", "__import__('os')", "n "])
def test_unknown_and_crafted_names_are_rejected(name):
    with pytest.raises(ParameterError, match="unknown parameter") as err:
        validate_parameters(SCHEMA, {name: 1})
    assert "declared parameters: n, rho, flag, mode" in str(err.value)


@pytest.mark.parametrize("name", ["x = 1; import os #", "1abc", "class", "a-b", ""])
def test_schema_names_must_be_plain_identifiers(name):
    with pytest.raises((ParameterError, ValueError)):
        Parameter(name=name, type="int", default=1)
    with pytest.raises(ParameterError):
        check_name(name)


def test_schema_rejects_a_default_outside_its_bounds_and_inverted_bounds():
    with pytest.raises(ValueError, match="out of bounds"):
        Parameter(name="n", type="int", default=0, min=1, max=3)
    with pytest.raises(ValueError, match="above max"):
        Parameter(name="n", type="int", default=1, min=5, max=3)


def test_numpy_scalars_are_accepted():
    np = pytest.importorskip("numpy")
    out = validate_parameters(SCHEMA, {"n": np.int64(4), "rho": np.float32(0.5)})
    assert out == {"n": 4, "rho": 0.5, "flag": False, "mode": "a"}
    assert type(out["n"]) is int and type(out["rho"]) is float
