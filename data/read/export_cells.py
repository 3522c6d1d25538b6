"""The SQL expressions of the export's cells, for the lines SQLite builds
(data/read/export_lines.py): text cells with the formula guard and RFC 4180 quoting, times,
and `time_to_resolve_h`. Each is byte for byte what `csv.writer` writes of the Python row
(data/read/ticket_export.py); what SQL cannot judge exactly asks Python (`md_cell`,
`md_hours`, `md_local_time`, registered on the connection).

Cheap first: comparisons and `GLOB '*x*'` (a `strcspn` inside SQLite) cost no allocation;
every function that returns text (`substr`, `printf`, `replace`) allocates, so the line has
as few of them per row as the exact result allows (docs/export.md, "Where the time goes").
"""

from __future__ import annotations

from data.read.export_zones import iso_offset

TRIGGER_CODES = (61, 43, 45, 64)  # = + - @ (tab and CR are below 33: Python judges them)
# Characters that make a cell quoted (RFC 4180, minimal): each is looked for with one
# `GLOB '*x*'`, which SQLite runs as a `strcspn`; one GLOB with a class of the four walks the
# text character by character and measured several times dearer.
QUOTE_PATTERNS = ("','", "'\"'", "char(10)", "char(13)")
# The hours' tie band: a rounding tie (an odd multiple of 18 s) needs equal fractions of a
# second, and `julianday` reads the times to the millisecond (off by up to 1 ms per
# difference), so a difference whose fraction is within this many microseconds of a whole
# second is left to Python.
TIE_BAND_US = 2000


def _glob_class(codes: frozenset[int]) -> str:
    """A GLOB character class (`[a-c...]`) of the printable ASCII `codes`, written as runs."""
    runs: list[list[int]] = []
    for code in sorted(codes):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in runs) + "]"


# GLOB: a text starting with a visible ASCII character that is no formula trigger. The class
# reads `[!-*,.-<>-?A-~]`: `]`, `^` and `-` fall inside runs, where they mean nothing special.
FIRST_PLAIN = _glob_class(frozenset(range(33, 127)) - frozenset(TRIGGER_CODES)) + "*"


def first_plain(col: str) -> str:
    """Whether `col` starts with a visible ASCII character that is no formula trigger. Most
    text starts with a letter, `A` to `~` (0x41-0x7E, no trigger among them): two comparisons
    of the stored bytes decide it without a function call; the GLOB judges the rest."""
    return f"(({col} >= 'A' AND {col} < char(127)) OR {col} GLOB '{FIRST_PLAIN}')"


def needs_quotes(col: str) -> str:
    """Whether the text `col` holds a character that makes its cell quoted (`,` first: the
    most common, and OR stops at the first hit)."""
    return " OR ".join(f"{col} GLOB {_contains(c)}" for c in QUOTE_PATTERNS)


def _contains(char: str) -> str:
    """The GLOB pattern `*x*` of one character given as SQL (a literal or `char(n)`)."""
    if char.startswith("char("):
        return f"('*' || {char} || '*')"
    return f"'*{char[1:-1]}*'"


def guarded(col: str, then: str) -> str:
    """`then` when `col` starts with a plain character; '' for NULL; anything else (empty, a
    trigger, a space, non-ASCII) is rare and asks Python (`md_cell`)."""
    plain = first_plain(col)
    return f"CASE WHEN {plain} THEN {then} WHEN {col} IS NULL THEN '' ELSE md_cell({col}) END"


def cell(col: str) -> str:
    """A text cell, quoted when it must be (`%w` doubles the double quotes)."""
    return guarded(
        col, f"(CASE WHEN {needs_quotes(col)} THEN printf('\"%w\"', {col}) ELSE {col} END)"
    )


def utc_time(col: str, nullable: bool = True) -> tuple[str, list[str]]:
    """(printf format, arguments) of a stored UTC time as isoformat writes it with `+00:00`:
    the date (`%.10s`), `T`, the time of day without `.000000` on a whole second (`%.*s` of 8
    or 15 characters), nothing at all for NULL. One `substr` and one `GLOB` per time; a column
    that is never NULL has its `T` and offset in the format itself."""
    tail = [f"15 - 7 * ({col} GLOB '*.000000')", f"substr({col}, 12)"]
    if not nullable:
        return "%.10sT%.*s+00:00", [col, *tail]
    present = f"CASE WHEN {col} IS NULL THEN '' ELSE"
    return "%.10s%s%.*s%s", [col, f"{present} 'T' END", *tail, f"{present} '+00:00' END"]


def hours(created: str, resolved: str) -> str:
    """`time_to_resolve_h`: the two times read by `julianday` (to the millisecond) and
    printed with `%.2f`. That rounds as Python does (half up on the exact microseconds)
    unless the difference is within TIE_BAND_US of a whole second, where a tie may hide; such
    rows, and a resolution before creation, go to Python (`md_hours`)."""
    fraction = f"CAST(substr({resolved}, 21) AS INTEGER) - CAST(substr({created}, 21) AS INTEGER)"
    band = TIE_BAND_US
    clear = f"({fraction} + {1_000_000 + band}) % 1000000 > {2 * band}"
    value = f"(julianday({resolved}) - julianday({created})) * 24"
    return (
        f"CASE WHEN {resolved} IS NULL THEN '' "
        f"WHEN {resolved} >= {created} AND {clear} THEN printf('%.2f', {value}) "
        f"ELSE md_hours({created}, {resolved}) END"
    )


def local_time(col: str, spans: tuple[tuple[str, int], ...], last: str) -> str:
    """A stored UTC time in the export's zone: a CASE over the zone's offset spans (newest
    first: an export is newest first), Python outside them; '' for NULL."""
    fraction = f"replace('.' || substr({col}, 21, 6), '.000000', '')"
    cases = []
    for start, offset in reversed(spans):
        # Whole seconds only into SQLite's date functions: they round a fraction to the
        # millisecond, and .9996 s would become the next second.
        local = f"strftime('%Y-%m-%dT%H:%M:%S', substr({col}, 1, 19), '{offset:+d} seconds')"
        value = f"printf('%s%s{iso_offset(offset)}', {local}, {fraction})"
        cases.append(f"WHEN {col} >= '{start}' THEN {value}")
    inside = f"CASE WHEN {col} > '{last}' THEN md_local_time({col}) " + " ".join(cases)
    return f"CASE WHEN {col} IS NULL THEN '' ELSE {inside} ELSE md_local_time({col}) END END"
