"""``ganzoo cite``: an entry of a suite's results, named by one of its run folders, as BibTeX beside the papers it
rests on (the entry found by :func:`ganzoo.bench.table.find_entry`, as ``ganzoo reproduce`` finds it).

Every text field is escaped for LaTeX: the output is pasted into papers and compiled with pdflatex and BibTeX, where
an unescaped ``%`` silently drops the rest of its line and ``_`` or ``&`` stop the run."""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Iterable
from typing import Any

from ganzoo.api.specs import VENUE_FIELDS, Reference
from ganzoo.api.version import CORE_VERSION
from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Suite
from ganzoo.bench.table import ResultEntry, Row
from ganzoo.leaderboard.board import protocol_text, shared_protocol
from ganzoo.registry.discovery import Zoo

DISTRIBUTION = "ganzoo-core"
# The parts of a run whose papers are cited, in this order, as provenance names them, and in words
ROLES = {"gan": "GAN", "objective": "objective", "algorithm": "algorithm", "augmentation": "augmentation"}


# --- LaTeX text ------------------------------------------------------------------------------------------------

# Characters TeX reads as syntax, and three that print as other glyphs in pdflatex's default OT1 font encoding.
# Braces become \textbrace...: BibTeX counts every brace, escaped or not, so "\{" would unbalance the field.
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "%": r"\%", "&": r"\&",
            "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
# Non-ASCII text pdflatex cannot take as it is (its utf8 input stops at an undeclared character), as commands of
# the default OT1 text and CM math fonts (textcomp's \textpm and kin would need TS1 fonts a basic TeX Live lacks);
# the .bib stays ASCII, for bibtex8 and biber alike
_UNICODE = {"±": r"\ensuremath{\pm}", "×": r"\ensuremath{\times}", "÷": r"\ensuremath{\div}", "−": "-", "–": "--",
            "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\dots{}", "°": r"\ensuremath{^\circ}",
            "µ": r"\ensuremath{\mu}", "²": r"\textsuperscript{2}", "³": r"\textsuperscript{3}",
            "≈": r"\ensuremath{\approx}", "≤": r"\ensuremath{\leq}", "≥": r"\ensuremath{\geq}",
            "≠": r"\ensuremath{\neq}", "→": r"\ensuremath{\to}", "∞": r"\ensuremath{\infty}", "ß": r"{\ss}",
            "æ": r"{\ae}", "Æ": r"{\AE}", "œ": r"{\oe}", "Œ": r"{\OE}", "ø": r"{\o}", "Ø": r"{\O}", "ł": r"{\l}",
            "Ł": r"{\L}", "ı": r"{\i}", "\u00a0": "~"}
# Combining marks (what NFD splits accented letters into) and the LaTeX accent command of each
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u", "\u0307": ".",
            "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c", "\u0328": "k"}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lamda", "mu", "nu",
          "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}


def _tex_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    if char.isascii():
        return char if char.isprintable() else " "  # control characters (tab, newline) print nothing useful
    if char in _UNICODE:
        return _UNICODE[char]
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and base.isalpha() and marks and all(mark in _ACCENTS for mark in marks):
        text = {"i": r"\i", "j": r"\j"}.get(base, base) if marks[0] not in "\u0327\u0328" else base
        for mark in marks:
            text = f"\\{_ACCENTS[mark]}{{{text}}}"
        return "{" + text + "}"  # braced: BibTeX then treats it as one letter (sorting, initials)
    name = unicodedata.name(char, "")
    if name.startswith("GREEK SMALL LETTER ") and name[19:].lower() in _GREEK:
        return rf"\ensuremath{{\{name[19:].lower().replace('lamda', 'lambda')}}}"
    return f"[U+{ord(char):04X}]"  # says which character it was rather than stopping pdflatex


def tex(text: str) -> str:
    """``text`` as LaTeX that prints it: every special character escaped, non-ASCII written as commands."""
    return "".join(_tex_char(char) for char in str(text))


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).lower())


def _normal_title(text: str) -> str:
    """A title reduced to its letters and digits: the same paper's title from two sources compares equal."""
    return _ascii_word(re.sub(r"\\[a-zA-Z]+|[{}]", "", text))


# --- BibTeX entries ------------------------------------------------------------------------------------------------

_STOP_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "with", "and", "are", "is", "do", "which", "how"}


def reference_key(reference: Reference) -> str:
    """Google Scholar's form, first author's last name, year, first word of the title: ``goodfellow2014generative``
    (``miyato2018spectral``, as the suites' own BibTeX is keyed)."""
    last = _ascii_word(reference.authors[0].split(",")[0]) or "anonymous"
    words = [_ascii_word(word) for word in reference.title.split()]
    first = next((word for word in words if word and word not in _STOP_WORDS), "")
    return f"{last}{reference.year}{first}"


def _identity(reference: Reference) -> str:
    """What makes two references the same paper, however two plugins spelled its venue."""
    if reference.arxiv:
        return "arxiv:" + re.sub(r"v\d+$", "", reference.arxiv)
    if reference.doi:
        return "doi:" + reference.doi.lower()
    return f"title:{_normal_title(reference.title)}:{reference.year}"


def _entry(kind: str, key: str, fields: Iterable[tuple[str, str]]) -> str:
    """A BibTeX entry; ``fields`` are (name, LaTeX text), already escaped."""
    return f"@{kind}{{{key},\n" + ",\n".join(f"  {name} = {{{value}}}" for name, value in fields) + "\n}"


def reference_bibtex(reference: Reference, key: str) -> str:
    fields = [("author", " and ".join(tex(name) for name in reference.authors)),
              ("title", "{" + tex(reference.title) + "}")]  # inner braces: styles must not lower-case "GAN"
    if reference.venue is not None:
        fields.append((VENUE_FIELDS[reference.kind], tex(reference.venue)))
    elif reference.arxiv:  # a preprint: styles print howpublished, not eprint
        fields.append(("howpublished", f"arXiv preprint arXiv:{reference.arxiv}"))
    fields.append(("year", str(reference.year)))
    if reference.arxiv:
        fields += [("eprint", reference.arxiv), ("archivePrefix", "arXiv")]
    # identifiers stay as they are (validated: no braces, backslashes or spaces): \url and \doi read them verbatim
    fields += [(name, value) for name, value in (("doi", reference.doi), ("url", reference.url)) if value]
    return _entry(reference.kind, key, fields)


def _suite_entries(bibtex: str) -> tuple[set[str], set[str]]:
    """The keys and normalised titles of the suite's own BibTeX, which is printed as it is."""
    keys = set(re.findall(r"@\s*\w+\s*\{\s*([^,\s]+)\s*,", bibtex))
    titles = {_normal_title(match) for match in re.findall(r"\btitle\s*=\s*[{\"](.+?)[}\"]\s*,?\s*$", bibtex,
                                                              flags=re.IGNORECASE | re.MULTILINE)}
    return keys, titles


class _Bibliography:
    """Entries in the order they are added, each paper once, every key unique."""

    def __init__(self, taken_keys: set[str], known_titles: set[str]):
        self.blocks: list[str] = []
        self.keys = set(taken_keys)
        self.known_titles = known_titles  # papers already in the output under a key we did not choose
        self.seen: set[str] = set()

    def _free(self, key: str) -> str:
        # a different paper under the same key (same author, year and first word): b, c, ... as bibliographies do
        suffixes = (chr(c) for c in range(ord("b"), ord("z") + 1))
        free = key
        while free in self.keys:
            free = key + next(suffixes)
        self.keys.add(free)
        return free

    def add_reference(self, reference: Reference) -> None:
        identity = _identity(reference)
        if identity in self.seen or _normal_title(reference.title) in self.known_titles:
            return
        self.seen.add(identity)
        self.blocks.append(reference_bibtex(reference, self._free(reference_key(reference))))

    def add_citation(self, role: str, name: str, distribution: str, citation: str) -> None:
        """A spec that gives its paper only in words: a @misc that says so, with the words as its note."""
        identity = "citation:" + " ".join(citation.split())
        if identity in self.seen:
            return
        self.seen.add(identity)
        key = self._free(re.sub(r"[^A-Za-z0-9_:-]+", "-", f"{role}:{name}"))
        self.blocks.append(_entry("misc", key, [
            ("title", "{" + tex(f"What the {ROLES[role]} {name} of {distribution} rests on") + "}"),
            ("note", tex(f"Cited by the plugin in words (it gives no structured reference): {citation}")),
        ]))


# --- the result ------------------------------------------------------------------------------------------------


def _key(*parts: str) -> str:
    return ":".join(re.sub(r"[^A-Za-z0-9_-]+", "-", part) for part in parts)


def _figure(value: OverSeeds | None, fmt: str) -> str:
    if value is None:
        return "n/a"
    text = format(value.mean, fmt)
    if value.sd is not None and value.interval is not None:
        text += f" ± {value.sd:{fmt}} (95 % interval {value.interval[0]:{fmt}} to {value.interval[1]:{fmt}})"
    return text


def _setting(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def budget_changes(suite: Suite, row: Row, record: dict[str, Any]) -> list[str]:
    """How the run's budget differs from the suite's, in words: the command line's --steps, --seeds and --set (the
    record's ``overrides``; a record from before they were recorded shows what its steps and seeds tell)."""
    budget = suite.budgets.get(record["budget"])
    raw = record.get("overrides")
    recorded = isinstance(raw, dict)
    overrides: dict[str, Any] = raw if isinstance(raw, dict) else {}
    changes = []
    if budget is not None:
        planned = budget.entry_steps.get(row.entry, budget.steps)
        if record["steps"] != planned:
            changes.append(f"{record['steps']:,} steps instead of {planned:,}")
        seeds = overrides.get("seeds") if recorded else len(row.records)
        if seeds is not None and seeds != budget.seeds:
            changes.append(f"{seeds} seed{'' if seeds == 1 else 's'} instead of {budget.seeds}")
    settings = overrides.get("set")
    if isinstance(settings, dict):
        changes += [f"{key} = {_setting(value)}" for key, value in sorted(settings.items())]
    return changes


def _result(suite: Suite, row: Row, record: dict[str, Any], version: str, year: str) -> tuple[str, str]:
    """The result's key and entry."""
    changes = budget_changes(suite, row, record)
    seeds = len(row.records)
    as_run = f"{record['steps']:,} steps, {seeds} seed{'s' if seeds != 1 else ''}"
    budget = (f"{record['budget']} budget changed on the command line ({'; '.join(changes)})" if changes else
              f"{record['budget']} budget ({as_run})")
    # a changed budget is another experiment: its own key, stable for the same changes
    digest = hashlib.sha256(json.dumps(changes).encode()).hexdigest()[:8]
    key = _key("ganzoo", suite.name, record["budget"], row.entry, row.objective, row.dataset,
               *([f"changed-{digest}"] if changes else []))
    figures = "; ".join(f"{c.label} {_figure(row.values[c.key], c.format)}" for c in suite.columns)
    incomparable = not record["comparable"] and bool(suite.follows or suite.published)
    plural = "" if seeds == 1 else "s"
    note = (f"{figures}; over {seeds} training seed{plural} ({row.diverged} diverged), {record['steps']:,} steps each; "
            f"{suite.metric} protocol: {protocol_text(shared_protocol(row.records))}; suite sha256 "
            f"{record['suite_sha256'][:16]}, config sha256 {record['config_sha256'][:16]} (seed {record['seed']})"
            f"{'; NOT comparable with published figures' if incomparable else ''}")
    return key, _entry("misc", key, [
        ("title", "{" + tex(f"{row.entry} ({row.gan} with {row.objective}) on {row.dataset}: the {suite.name} "
                            f"suite of ganzoo, {budget}") + "}"),
        ("author", "{ganzoo contributors}"),  # braced: one name, not "contributors, ganzoo"
        ("howpublished", tex(f"{DISTRIBUTION} {version} on the Python package index")),
        ("note", tex(note)),
        ("year", year),
    ])


def cite(entry: ResultEntry, zoo: Zoo) -> str:
    """BibTeX: the result (its budget as run), ganzoo itself, the paper whose protocol the suite follows (the suite's
    own BibTeX, as it is), and the papers of the run's GAN, objective, algorithm and augmentation, each once."""
    suite, row, record = entry.suite, entry.row, entry.record
    year = time.strftime("%Y")
    version = str(record["provenance"].get("ganzoo", CORE_VERSION))
    key, result = _result(suite, row, record, version, year)
    blocks = [
        result,
        _entry("misc", "ganzoo", [
            ("title", "{" + tex("ganzoo: a plugin-based GAN zoo") + "}"),
            ("author", "{ganzoo contributors}"),
            ("howpublished", tex(f"the {DISTRIBUTION} distribution, version {version}")),
            ("note", tex("CITATION.cff in its repository")),
            ("year", year),
        ]),
    ]
    suite_keys, suite_titles = _suite_entries(suite.bibtex or "")
    if suite.bibtex:
        blocks.append(suite.bibtex.strip())  # already BibTeX, written by the suite's author: escaping it would break it
    papers = _Bibliography({"ganzoo", key, *suite_keys}, suite_titles)
    for role in ROLES:
        used = record["provenance"].get(role)
        name = used.get("name") if isinstance(used, dict) else None
        registry = zoo.registry(role + "s")
        if not isinstance(name, str) or name not in registry:
            continue  # a part no longer installed: its paper cannot be looked up
        spec = registry.get(name)
        for reference in getattr(spec, "references", ()):
            papers.add_reference(reference)
        if not getattr(spec, "references", ()):
            # the distribution the words come from, which may not be the one that trained the run
            papers.add_citation(role, name, registry.source(name).distribution, spec.citation)
    return "\n\n".join(blocks + papers.blocks)
