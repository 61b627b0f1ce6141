"""docs/theory.md exists, has its numbered sections, and every section the code cites exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"
# Trees whose .py files may cite the theory; tests/ is included so property tests stay honest too.
SCANNED = ("plproof", "properties", "tests", "benchmarks", "examples")

HEADING = re.compile(r"^#{1,6}\s+§(\d+(?:\.\d+)*)(?=[\s:.]|$)", re.MULTILINE)
# "docs/theory.md §5", "docs/theory.md §5, §9", "docs/theory.md §2.3 and §2.5": every § of the run counts.
CITATION = re.compile(r"docs/theory\.md,?\s*(§\s*\d+(?:\.\d+)*(?:\s*(?:,|and|-|–)\s*§\s*\d+(?:\.\d+)*)*)")
NUMBER = re.compile(r"§\s*(\d+(?:\.\d+)*)")

REQUIRED = [str(k) for k in range(15)] + [
    "1.1", "1.2", "1.3", "1.4", "1.5",
    "2.1", "2.2", "2.3", "2.4", "2.5",
    "4.1", "4.4", "6.3",
    "11.1", "11.2", "11.3", "11.4", "11.5", "11.6",
    "12.1", "12.2", "12.3", "12.4", "12.5", "12.6",
]


def section_numbers(text: str) -> list[str]:
    """Section numbers of the Markdown headings of the form '## §N title'."""
    return HEADING.findall(text)


def undefined_citations(root: Path, sections: set[str]) -> list[str]:
    """'path:line: §N' for every theory citation in scanned .py files whose §N is not a heading."""
    bad = []
    for top in SCANNED:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for run in CITATION.findall(line):
                    for number in NUMBER.findall(run):
                        if number not in sections:
                            bad.append(f"{path.relative_to(root)}:{lineno}: §{number}")
    return bad


@pytest.fixture(scope="module")
def theory_text() -> str:
    assert THEORY.is_file(), "docs/theory.md is missing"
    return THEORY.read_text(encoding="utf-8")


def test_required_sections_present(theory_text: str) -> None:
    present = set(section_numbers(theory_text))
    missing = [n for n in REQUIRED if n not in present]
    assert not missing, f"docs/theory.md lacks headings for §{', §'.join(missing)}"


def test_top_level_sections_in_order_and_unique(theory_text: str) -> None:
    numbers = section_numbers(theory_text)
    assert len(numbers) == len(set(numbers)), "duplicate section headings"
    top = [int(n) for n in numbers if "." not in n]
    assert top == list(range(15))


def test_code_citations_resolve(theory_text: str) -> None:
    bad = undefined_citations(ROOT, set(section_numbers(theory_text)))
    assert not bad, "citations of sections that docs/theory.md does not have:\n" + "\n".join(bad)


def test_citation_scanner_detects_a_bad_citation(tmp_path: Path) -> None:
    pkg = tmp_path / "plproof" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "mod.py").write_text(
        '"""Radius R_fl, docs/theory.md §2.5; T1 in docs/theory.md §11.3 (T1)."""\n'
        "# see docs/theory.md §" + "99.1 for nothing\n"  # split so this file does not cite §99.1
        "# docs/theory.md §5, §" + "98 and §2.5\n",
        encoding="utf-8",
    )
    assert undefined_citations(tmp_path, {"2.5", "5", "11.3"}) == [
        "plproof/sub/mod.py:2: §99.1",
        "plproof/sub/mod.py:3: §98",
    ]
    assert undefined_citations(tmp_path, {"2.5", "5", "11.3", "98", "99.1"}) == []


def test_heading_parser() -> None:
    text = "# title\n## §0 Notation\n### §2.5 The radius\n**§3 not a heading**\n## §11.3 T1: drift\n"
    assert section_numbers(text) == ["0", "2.5", "11.3"]


def test_key_constants_are_stated(theory_text: str) -> None:
    # Constants code and certificates rely on; a rewrite that drops one must update this list.
    for needle in (
        r"R_{fl}:=\frac{2\sqrt{2\mathcal L_0/\mu}}{2-\beta\eta}",
        r"\delta(R):=s\,\|X\|\operatorname{sig}(c)\,R",
        r"\mu_t(R):=(\sqrt{\lambda_0}-\delta(R))_+^2",
        r"e_{t+1}=\ell_t\,e_t+\rho_t",
        r"\eta^*=\dfrac{\mu}{\beta\,(n\beta+\mu(s-1))}",
        "Derived in docs/rigor.md §2.",
    ):
        assert needle in theory_text, needle
