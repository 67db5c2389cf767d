"""Reading Markdown for tests: fenced blocks, links, code spans, repository paths and heading anchors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "orderline"

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?P<code>.+?)\1", re.S)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(?P<target>\S+)", re.M)
_HEADING = re.compile(r"^#{1,6}[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$", re.M)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
# Paths from the repository root, and modules or folders of the package as the docs name them.
_FROM_ROOT = re.compile(r"^(?:\./)?(?:docs|src|tests|scripts|bench|\.ci)/")
_IN_PACKAGE = re.compile(r"^(?:domain|application|storage|http|gateways|security|events)/\S*(?:\.py|/)$")
_MARKDOWN_FILE = re.compile(r"(?<![\w/.-])(?:[\w.-]+/)*[\w.-]+\.md\b")
_PLACEHOLDER = re.compile(r"[<>*{}$…]|\.\.\.|\bNNN")  # <slug>, *.md, NNNN-title.md: patterns, not files
_OPENING = "\"'`(["
_CLOSING = "\"'`)],;:.!?"


@dataclass(frozen=True, slots=True)
class Fenced:
    info: str  # the word after the opening fence: sh, json, python...
    body: str
    start: int  # offset of the opening fence in the document


def documents(root: Path = ROOT) -> list[Path]:
    """Every Markdown file of the repository, outside hidden folders, builds and environments."""
    found = []
    for path in root.rglob("*.md"):
        folders = path.relative_to(root).parts[:-1]
        if any(part.startswith(".") or part in {"build", "dist", "node_modules"} for part in folders):
            continue
        if any(part.endswith(".egg-info") for part in folders):
            continue
        found.append(path)
    return sorted(found)


def fenced_blocks(text: str) -> list[Fenced]:
    return [Fenced(m["info"].strip(), m["body"], m.start()) for m in _FENCE.finditer(text)]


def prose(text: str) -> str:
    """The text outside fenced blocks."""
    return _FENCE.sub("", text)


def links(text: str) -> list[str]:
    """Targets of inline and reference links outside code."""
    outside = _CODE_SPAN.sub("", prose(text))
    found = [m["target"].strip("<>") for m in _LINK.finditer(outside)]
    return found + [m["target"] for m in _REFERENCE.finditer(outside)]


def relative_links(text: str) -> list[str]:
    """Links to files of the repository (a path, perhaps with an anchor), or to an anchor of this document."""
    return [target for target in links(text) if not _SCHEME.match(target)]


def _tokens(code: str) -> list[str]:
    return [token.lstrip(_OPENING).rstrip(_CLOSING) for token in re.split(r"[\s=|]+", _URL.sub(" ", code))]


def cited_paths(text: str) -> list[str]:
    """What a document names as a file or folder: paths in code (spans and fenced blocks) from the
    repository root or inside the package, and every ``*.md`` it mentions anywhere outside a URL."""
    code = [m["code"] for m in _CODE_SPAN.finditer(prose(text))] + [block.body for block in fenced_blocks(text)]
    paths = (token.split("::", 1)[0] for snippet in code for token in _tokens(snippet))  # tests/x.py::test_y
    found = [path for path in paths if _FROM_ROOT.match(path) or _IN_PACKAGE.match(path)]
    # A link's text may show a file's name on its own; its target is the path, relative to the document.
    outside = _LINK.sub(lambda link: f" {link['target']} ", prose(text))
    found += _MARKDOWN_FILE.findall(_URL.sub(" ", outside))
    return [path for path in found if not _PLACEHOLDER.search(path)]


def resolves(document: Path, cited: str) -> bool:
    """Whether a cited path exists: from the repository root, beside the document, or in the package."""
    cited = cited.removeprefix("./")
    if _IN_PACKAGE.match(cited) and (PACKAGE / cited).exists():
        return True
    return (ROOT / cited).exists() or (document.parent / cited).exists()


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens,
    a repeated heading numbered."""
    seen: dict[str, int] = {}
    found = set()
    for match in _HEADING.finditer(prose(text)):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match["text"]).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found
