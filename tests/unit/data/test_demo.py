"""The demonstration datasets: one per restricted marking, labelled synthetic, loadable."""

from __future__ import annotations

import genesis_lab as gl
from genesis_lab.catalog.catalog import load_catalog
from genesis_lab.data.demo import write_demo_datasets
from genesis_lab.settings import get_settings


def test_one_labelled_dataset_per_restricted_marking():
    s = get_settings()
    ids = write_demo_datasets(s.data_root, s.user_catalog_dir)
    cat = load_catalog(s, warn=False)
    entries = [cat.get(i) for i in ids]
    assert sorted(e.marking for e in entries) == ["controlled", "export-controlled", "proprietary"]
    for entry in entries:
        assert entry.title.startswith("DEMONSTRATION (synthetic)")
        ds = gl.open_dataset(entry.id)
        assert ds.sizes == {"x": 12, "y": 8}
        assert "not real" in ds.attrs["note"].lower()
    assert write_demo_datasets(s.data_root, s.user_catalog_dir) == []  # written once
