"""The commune names nearest a misspelt one ("Lile" → Lille, "Roubiax" → Roubaix, "villeneuve dascq" →
Villeneuve-d'Ascq), for the "Vouliez-vous dire ?" of the directory's searches and of the `communes` API.

Names are compared folded (fold_name: no accents, case, punctuation, "St" read "Saint") and without their
spaces, so "villeneuve dascq" and "Villeneuve-d'Ascq" are the same word. Trigrams shortlist the names that
share most of the typed text's, then an edit distance counting a swap of two letters as one edit ranks them,
the most populated first among equals. Both run in Python over an index of the whole commune table that each
process builds once (about 35,000 names), so it works alike on SQLite and PostgreSQL; one suggestion over the
national table takes a few milliseconds (bench/commune_suggestions.py).
"""

from __future__ import annotations

import heapq
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from directory.places import fold_name

# Below this, a typed text is too short for its trigrams to say anything.
MIN_LENGTH = 3
# How many names the trigrams shortlist for the edit distance.
SHORTLIST = 200
# The index is rebuilt when the table gains a row (its last id changes: one index look-up, where counting
# the rows would read them all), when this process loads the table, and at least this often: another process's
# load may rename or delete a commune without adding one (a deleted one only drops out of the suggestions).
INDEX_MAX_AGE_SECONDS = 3600.0


def compact_name(text: str) -> str:
    """What the suggestions compare: the folded name without its spaces ("villeneuvedascq")."""
    return fold_name(text).replace(" ", "")


def trigrams(compact: str) -> set[str]:
    """The name's three-letter pieces, its beginning and end marked (as PostgreSQL's pg_trgm does)."""
    padded = f"  {compact} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def edit_distance_from(pattern: str) -> Callable[[str], int]:
    """The edit distance from `pattern` to any text: insertions, deletions, substitutions and swaps of two
    neighbouring letters, each one edit (optimal string alignment). Bit-parallel (Hyyrö 2003, "A bit-vector
    algorithm for computing Levenshtein and Damerau edit distances"): one pass over the text of a dozen integer
    operations per letter, whatever the pattern's length, instead of a table of their product."""
    if not pattern:
        return len
    positions: dict[str, int] = {}
    for i, char in enumerate(pattern):
        positions[char] = positions.get(char, 0) | (1 << i)
    size = len(pattern)
    full, last = (1 << size) - 1, 1 << (size - 1)

    def distance(text: str) -> int:
        plus, minus, diagonal, previous, score = full, 0, 0, 0, size
        for char in text:
            match = positions.get(char, 0)
            swapped = (((~diagonal) & match) << 1) & previous
            diagonal = ((((match & plus) + plus) ^ plus) | match | minus | swapped) & full
            horizontal_plus = (minus | ~(diagonal | plus)) & full
            horizontal_minus = diagonal & plus
            if horizontal_plus & last:
                score += 1
            elif horizontal_minus & last:
                score -= 1
            horizontal_plus = ((horizontal_plus << 1) | 1) & full
            horizontal_minus = (horizontal_minus << 1) & full
            plus = (horizontal_minus | ~(diagonal | horizontal_plus)) & full
            minus = diagonal & horizontal_plus
            previous = match
        return score

    return distance


def max_edits(length: int) -> int:
    """How far a suggestion may be from what was typed: one letter in a short name, up to three in a long one."""
    return 1 if length <= 5 else 2 if length <= 10 else 3


@dataclass(frozen=True)
class CommuneNameIndex:
    """The commune table's names, compacted, with their trigrams' postings (positions in `ids`)."""

    version: int | None
    built_at: float
    ids: list[int]
    names: list[str]
    populations: list[int]
    lengths: list[int]
    gram_counts: list[int]
    postings: Mapping[str, Sequence[int]]

    @classmethod
    def build(cls, rows: list[tuple[int, str, int]], version: int | None) -> CommuneNameIndex:
        """From (id, name_folded, population) rows."""
        ids, names, populations, lengths, gram_counts = [], [], [], [], []
        postings: dict[str, list[int]] = {}
        for position, (pk, folded, population) in enumerate(rows):
            name = folded.replace(" ", "")
            grams = trigrams(name)
            ids.append(pk)
            names.append(name)
            populations.append(population)
            lengths.append(len(name))
            gram_counts.append(len(grams))
            for gram in grams:
                postings.setdefault(gram, []).append(position)
        # Arrays of machine integers: a tenth of the memory of lists of Python ints (half a million positions).
        packed = {gram: array("I", positions) for gram, positions in postings.items()}
        return cls(version, time.monotonic(), ids, names, populations, lengths, gram_counts, packed)

    def nearest(self, text: str, limit: int) -> list[int]:
        """The ids of the communes whose names are nearest `text`, nearest then most populated first; none
        farther than `max_edits`. May name a commune deleted since the index was built: read them back."""
        typed = compact_name(text)
        if len(typed) < MIN_LENGTH:
            return []
        grams = trigrams(typed)
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self.postings.get(gram, ()))
        allowed = max_edits(len(typed))
        # Lower bounds of the edit distance, cheap to check: each edit changes the length by one at most and
        # breaks at most four of the typed trigrams (a swap of two letters).
        least_shared, length, lengths = len(grams) - 4 * allowed, len(typed), self.lengths
        eligible = [
            item for item in shared.items() if item[1] >= least_shared and abs(lengths[item[0]] - length) <= allowed
        ]
        # Then trigram similarity (shared over all the distinct trigrams of both names) shortlists.
        shortlist = heapq.nlargest(
            SHORTLIST, eligible, key=lambda item: item[1] / (len(grams) + self.gram_counts[item[0]] - item[1])
        )
        distance_to = edit_distance_from(typed)
        ranked = []
        for position, _count in shortlist:
            distance = distance_to(self.names[position])
            if distance <= allowed:
                ranked.append((distance, -self.populations[position], self.names[position], self.ids[position]))
        return [pk for *_rank, pk in sorted(ranked)[:limit]]


_index: CommuneNameIndex | None = None
_lock = threading.Lock()


def commune_name_index() -> CommuneNameIndex:
    """This process's index, rebuilt when the table gained a row or the index grew old (INDEX_MAX_AGE_SECONDS)."""
    from django.db.models import Max

    from directory.models import Commune

    global _index
    version = Commune.objects.aggregate(last=Max("pk"))["last"]
    index = _index
    if index is None or index.version != version or time.monotonic() - index.built_at > INDEX_MAX_AGE_SECONDS:
        with _lock:
            rows = list(Commune.objects.order_by("pk").values_list("pk", "name_folded", "population"))
            index = _index = CommuneNameIndex.build(rows, version)
    return index


def commune_name_index_forget() -> None:
    """Drop this process's index (the commune table was just loaded)."""
    global _index
    _index = None
