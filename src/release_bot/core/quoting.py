"""Outside text quoted in a sentence: on one line, printable, and shortened."""

ELLIPSIS = "…"


def shown(text: str, limit: int = 60) -> str:
    """`text` with unprintable characters escaped (`\\n`, `\\x00`), cut to `limit` characters."""
    if len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
