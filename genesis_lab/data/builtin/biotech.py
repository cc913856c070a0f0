"""Biotechnology datasets: BLOSUM/PAM substitution matrices and the NCBI genetic codes.

Both are parsed from the text files shipped in biotite, without importing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from genesis_lab.data.package import package_dataset
from genesis_lab.errors import ParameterError

if TYPE_CHECKING:
    import xarray as xr

_MATRIX_DIR = "sequence/align/matrix_data"
_NCBI = ("NCBI help desk", "info@ncbi.nlm.nih.gov")


def _read_matrix(path: Path) -> tuple[list[str], list[str], list[list[float]]]:
    cols: list[str] = []
    rows: list[str] = []
    values: list[list[float]] = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split()
        if not cols:
            cols = cells
            continue
        rows.append(cells[0])
        values.append([float(c) for c in cells[1:]])
    return rows, cols, values


def _protein_matrix_names(files: dict[str, Path]) -> list[str]:
    names = [Path(n).stem for n in files]
    return sorted(n for n in names if (n.startswith(("BLOSUM", "PAM"))) and n != "BLOSUMN")


@package_dataset(
    id="biotechnology/substitution-matrices",
    title="Amino-acid substitution matrices (BLOSUM and PAM)",
    description=(
        "Log-odds scores for substituting one amino acid for another: the BLOSUM series "
        "(Henikoff and Henikoff 1992) and the PAM series (Dayhoff 1978), as distributed by NCBI "
        "for BLAST. Dimensions (matrix, residue_1, residue_2); pass matrices=[...] to choose."
    ),
    keyword=("protein", "sequence alignment", "BLOSUM", "PAM", "BLAST", "NCBI"),
    package="biotite",
    files=(f"{_MATRIX_DIR}/BLOSUM*.mat", f"{_MATRIX_DIR}/PAM*.mat"),
    agency="NCBI (National Library of Medicine, NIH)",
    publisher="National Center for Biotechnology Information",
    contact=_NCBI,
    citation=(
        "S. Henikoff and J. G. Henikoff, Amino acid substitution matrices from protein blocks, "
        "PNAS 89 10915 (1992); M. O. Dayhoff et al., Atlas of Protein Sequence and Structure 5 "
        "suppl. 3 (1978); matrices from ftp://ftp.ncbi.nih.gov/blast/matrices/"
    ),
    license="Public domain (NCBI distribution); biotite is BSD-3-Clause",
    modified="2024-01-01",
    units={"score": "half-bit (log-odds)"},
    options={
        "matrices": ["BLOSUM45", "BLOSUM50", "BLOSUM62", "BLOSUM80", "PAM30", "PAM70", "PAM250"]
    },
)
def substitution_matrices(
    files: dict[str, Path], *, matrices: list[str] | str = "all"
) -> xr.Dataset:
    """Scores on the 24-letter protein alphabet; ``matrices='all'`` opens every BLOSUM/PAM file."""
    import numpy as np
    import xarray as xr

    available = _protein_matrix_names(files)
    chosen = (
        available if matrices == "all" else [matrices] if isinstance(matrices, str) else matrices
    )
    unknown = [m for m in chosen if m not in available]
    if unknown:
        raise ParameterError(
            f"matrices: unknown {', '.join(unknown)}. Allowed values: {', '.join(available)}"
        )
    alphabet: list[str] | None = None
    cube = []
    for name in chosen:
        rows, cols, values = _read_matrix(files[f"biotite/{_MATRIX_DIR}/{name}.mat"])
        if alphabet is None:
            alphabet = cols
        order_r = [rows.index(a) for a in alphabet]
        order_c = [cols.index(a) for a in alphabet]
        cube.append(np.asarray(values)[np.ix_(order_r, order_c)])
    assert alphabet is not None
    return xr.Dataset(
        {"score": (("matrix", "residue_1", "residue_2"), np.asarray(cube))},
        coords={"matrix": chosen, "residue_1": alphabet, "residue_2": alphabet},
    )


@package_dataset(
    id="biotechnology/codon-tables",
    title="The NCBI genetic codes (codon tables)",
    description=(
        "For each of the NCBI genetic codes (standard, mitochondrial, bacterial and others): "
        "the amino acid every one of the 64 codons encodes ('*' for stop) and whether it can "
        "start translation. Used in gene design and codon optimisation."
    ),
    keyword=("genetic code", "codon", "translation", "NCBI", "gene synthesis"),
    package="biotite",
    files=("sequence/codon_tables.txt",),
    agency="NCBI (National Library of Medicine, NIH)",
    publisher="National Center for Biotechnology Information",
    contact=_NCBI,
    citation=(
        "A. Elzanowski and J. Ostell, The Genetic Codes, NCBI Taxonomy, "
        "https://www.ncbi.nlm.nih.gov/Taxonomy/Utils/wprintgc.cgi"
    ),
    license="Public domain (NCBI); biotite is BSD-3-Clause",
    modified="2024-01-01",
    units={"amino_acid": "", "is_start": "1", "table_name": ""},
)
def codon_tables(files: dict[str, Path]) -> xr.Dataset:
    """Dimensions (table_id, codon) with codons in NCBI order (TTT, TTC, ...)."""
    import numpy as np
    import xarray as xr

    blocks = files["biotite/sequence/codon_tables.txt"].read_text().split("\n\n")
    ids, names, aas, starts = [], [], [], []
    codons: list[str] = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            key, _, value = line.partition(" ")
            fields[key] = value.strip()
        if "id" not in fields:
            continue
        codons = [
            "".join(t) for t in zip(fields["Base1"], fields["Base2"], fields["Base3"], strict=True)
        ]
        ids.append(int(fields["id"]))
        names.append(fields["name"])
        aas.append(list(fields["AA"]))
        starts.append([c != "-" for c in fields["Init"]])
    return xr.Dataset(
        {
            "amino_acid": (("table_id", "codon"), np.array(aas)),
            "is_start": (("table_id", "codon"), np.array(starts, dtype=bool)),
            "table_name": ("table_id", np.array(names)),
        },
        coords={"table_id": ids, "codon": codons},
    )
