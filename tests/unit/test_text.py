"""The whitespace class the patterns spell out is exactly what Python calls whitespace."""

from __future__ import annotations

import re

from orderline.domain.text import SPACE


def test_the_whitespace_class_is_exactly_what_str_isspace_and_str_strip_mean() -> None:
    spaces = re.compile(f"[{SPACE}]")

    differing = [c for c in map(chr, range(0x110000)) if bool(spaces.fullmatch(c)) != c.isspace()]

    assert differing == []
    assert all(not (c * 2).strip() for c in map(chr, range(0x110000)) if c.isspace())
