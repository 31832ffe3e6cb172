"""Text that PostgreSQL cannot store or compare, found before it reaches a query.

PostgreSQL text holds neither NUL (psycopg2 refuses the parameter with a ValueError)
nor a lone UTF-16 surrogate (the string cannot be encoded as UTF-8 at all, and an
error message that echoes it cannot be rendered either). Both arrive easily: `%00`
in a query string, `"\\u0000"` or `"\\ud800"` escapes in a JSON body, a byte that is not
UTF-8 in a CSV file read with `surrogateescape`. Every input path asks these helpers
and answers a clear 400 naming where the character is, instead of a 500 later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# NUL, or any code point in the surrogate block (never valid on its own in a str
# that is meant to be UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Longest text shown back in a message.
SHOWN_CHARACTERS = 100


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored (naming the character and its position), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    character = found.group()
    if character == "\x00":
        return f"a NUL character (\\x00) at position {found.start()}"
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:
        # What Python's surrogateescape makes of a byte that is not UTF-8 in a file.
        return (
            f"a lone UTF-16 surrogate (\\u{code:04x}; read from a file: the byte 0x{code - 0xDC00:02x}, "
            f"which is not UTF-8) at position {found.start()}"
        )
    return f"a lone UTF-16 surrogate (\\u{code:04x}) at position {found.start()}"


def printable(text: str, *, limit: int = SHOWN_CHARACTERS) -> str:
    """`text` safe to echo in JSON, HTML or a log: NUL and surrogates as escapes, shortened."""
    shortened = text if len(text) <= limit else text[:limit] + "…"
    return _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", shortened)


def first_unstorable(value: Any) -> tuple[tuple[Any, ...], str, str] | None:
    """The first string in a parsed JSON document that cannot be stored, or None.

    Returns (path, text, reason): the path is the list indexes and object keys leading
    to it (a key is itself the culprit when the path ends with it and text is the key).
    Walks without recursion, so a document nested as deep as the parser allowed
    cannot exhaust the stack here.
    """
    for path, text in _strings(value):
        reason = unstorable_reason(text)
        if reason is not None:
            return path, text, reason
    return None


def _strings(value: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            yield path, current
        elif isinstance(current, dict):
            # Reversed onto the stack, so the document is walked in its own order.
            for key, item in reversed(list(current.items())):
                if isinstance(key, str):
                    stack.append(((*path, key), item))
                    stack.append(((*path, key), key))
                else:
                    stack.append(((*path, key), item))
        elif isinstance(current, (list, tuple)):
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(current))))
