"""Whitespace as rules about text mean it: Python's str.isspace(), spelled as a regex class.

Patterns the domain checks are also stated in the OpenAPI document, where ECMA-262 reads them. The two
dialects disagree on ``\\s`` (U+001C to U+001F, U+0085) and ``\\d`` (any Unicode digit, in Python), so the
patterns spell characters out instead, and this class is what ``str.strip()`` strips.
"""

from __future__ import annotations

SPACE = r"\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
