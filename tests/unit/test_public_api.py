"""The public API of ``genesis_lab`` is pinned: adding or removing a name is a decision."""

import genesis_lab

EXPECTED = {
    "Campaign",
    "__version__",
    "catalog",
    "cluster",
    "errors",
    "get_settings",
    "get_simulator",
    "load_model",
    "open_dataset",
    "record_metrics",
    "search",
    "sweep",
    "train",
}


def test_all_is_pinned():
    assert set(genesis_lab.__all__) == EXPECTED


def test_every_public_name_resolves():
    for name in genesis_lab.__all__:
        assert getattr(genesis_lab, name) is not None, name


def test_unknown_attribute_is_an_attribute_error():
    try:
        genesis_lab.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
