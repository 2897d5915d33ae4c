"""The one exception tree of groundlink.

Every error raised on purpose by groundlink is a :class:`GroundlinkError`.
Bad input is an :class:`InvalidInput` that names the field, the value and
what was expected, and where the input came from when that is known (a file
and a 1-based line number), so that the CLI can print it on one line and the
API can turn it into a 422 without guessing.
"""

from __future__ import annotations


class GroundlinkError(Exception):
    """Base class of every error groundlink raises on purpose."""


class InvalidInput(GroundlinkError, ValueError):
    """Input rejected at the edge: which field, which value, what was expected.

    Attributes:
        field: the offending field, in the input's own spelling (``"MEAN_MOTION"``,
            ``"lat_deg"``, ``"line 2 checksum"``).
        value: the offending value as text, shortened to 80 characters.
        expected: what would have been accepted, in words.
        source: where the input came from (a file name), or ``None``.
        line: 1-based line number in ``source``, or ``None``.
    """

    def __init__(
        self,
        field: str,
        value: object,
        expected: str,
        *,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.field = field
        self.value = _shorten(value)
        self.expected = expected
        self.source = source
        self.line = line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line: ``[source:line: ]field: got 'value', expected ...``."""
        where = ""
        if self.source is not None:
            where = self.source + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        return f"{where}{self.field}: got {self.value!r}, expected {self.expected}"

    def located(self, *, source: str | None = None, line: int | None = None) -> InvalidInput:
        """Return a copy of this error with ``source`` and ``line`` filled in where unknown."""
        return InvalidInput(
            self.field,
            self.value,
            self.expected,
            source=self.source if self.source is not None else source,
            line=self.line if self.line is not None else line,
        )


def _shorten(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
