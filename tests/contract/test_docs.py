"""The documents cite only what the repository has: every relative link, anchor and named path exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.markdown import ROOT, anchors, cited_paths, documents, relative_links, resolves

DOCUMENTS = [pytest.param(path, id=str(path.relative_to(ROOT))) for path in documents()]

SAMPLE = """# A page

See [the payments](docs/payments.md#pay-order), [gone](docs/gone.md) and [here](#a-page).
The design lives in DESIGN.md; the code in `src/orderline/http/app.py` and `http/api/gone.py`.

```sh
./scripts/serve --port 9000
tests/nowhere/test_x.py::test_y
```
"""


def test_the_documents_include_the_readme_the_changelog_the_docs_and_the_benchmark_notes() -> None:
    found = {path.relative_to(ROOT).as_posix() for path in documents()}

    assert {"README.md", "CHANGELOG.md", "bench/README.md", "docs/payments.md", "docs/architecture.md"} <= found
    assert any(name.startswith("docs/adr/") for name in found)
    assert any(name.startswith("docs/problems/") for name in found)


def test_links_paths_in_code_and_named_markdown_files_are_all_found() -> None:
    assert relative_links(SAMPLE) == ["docs/payments.md#pay-order", "docs/gone.md", "#a-page"]
    assert set(cited_paths(SAMPLE)) >= {
        "src/orderline/http/app.py",
        "http/api/gone.py",
        "./scripts/serve",
        "tests/nowhere/test_x.py",
        "DESIGN.md",
        "docs/gone.md",
    }


def test_a_path_that_is_not_in_the_repository_does_not_resolve() -> None:
    readme = ROOT / "README.md"

    assert resolves(readme, "src/orderline/http/app.py")
    assert resolves(readme, "http/app.py")
    assert not resolves(readme, "DESIGN.md")
    assert not resolves(readme, "http/api/gone.py")


def test_headings_get_the_anchors_github_gives_them() -> None:
    text = "# The API (native, under `/v1`)\n## Pay Order\n## Pay Order\n"

    assert anchors(text) == {"the-api-native-under-v1", "pay-order", "pay-order-1"}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_relative_link_points_at_a_file_in_the_repository(document: Path) -> None:
    targets = [link.split("#", 1)[0] for link in relative_links(document.read_text())]

    missing = [target for target in targets if target and not (document.parent / target).exists()]

    assert missing == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_link_to_an_anchor_names_a_heading_of_its_document(document: Path) -> None:
    broken = []
    for link in relative_links(document.read_text()):
        target, _, anchor = link.partition("#")
        linked = (document.parent / target) if target else document
        if anchor and linked.suffix == ".md" and linked.is_file() and anchor not in anchors(linked.read_text()):
            broken.append(link)

    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_a_document_names_is_in_the_repository(document: Path) -> None:
    missing = [cited for cited in cited_paths(document.read_text()) if not resolves(document, cited)]

    assert missing == []


def test_the_readme_configuration_table_names_every_setting_and_no_other() -> None:
    import re

    from orderline.config import Settings

    first_cells = re.findall(r"^\| ([^|]*`ORDERLINE_[^|]*)\|", (ROOT / "README.md").read_text(), re.M)
    named = {name for cell in first_cells for name in re.findall(r"`(ORDERLINE_[A-Z_]+)`", cell)}
    test_only = {"ORDERLINE_TEST_POSTGRES_URL", "ORDERLINE_TEST_REDIS_URL"}

    assert named - test_only == {f"ORDERLINE_{field.upper()}" for field in Settings.__struct_fields__}
