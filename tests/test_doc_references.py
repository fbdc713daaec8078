"""Every reference in the code resolves in the repository: `docs/docusign.md §N.N` names a section heading of
docs/docusign.md, `docs/security.md TS-6` a rule heading of docs/security.md, and nothing still cites the
protocol reference or the security checklist that live outside the repository.

On a line, every `§N` after `docs/docusign.md` must be a heading there, and every rule id (or figure `F4`) after
`docs/security.md` a heading there; a `§` or rule id with no such prefix before it on its line is a stale citation.
Public standards cited by section (`RFC 6749 §4.1`, `PDF 1.4 §3.4.1`) are not DocuSign's protocol and are allowed.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_DOC = "docs/docusign.md"
RULES_DOC = "docs/security.md"
SCANNED_SUFFIXES = (".py", ".html", ".md")

SECTION = re.compile(r"§(\d+(?:\.\d+)*)")
STANDARD_SECTION = re.compile(r"(?:RFC \d+|PDF [\d.]+) §[\d.]+(?:, §[\d.]+)*")
RULE_ID = re.compile(r"(?<![\w-])((?:OA|TS|TI|WH|BG|BI|DP|AP|EV)-\d+)(?:\.\.((?:OA|TS|TI|WH|BG|BI|DP|AP|EV)-\d+))?(?![\w-])")
FIGURE = re.compile(r"(?<![\w/])(F\d{1,2})(?![\w])")
# Names of the documents outside the repository that code must not point at.
OUTSIDE_DOCS = re.compile(r"docusign-protocol\.md|security-checklist\.md|(?<![\w/-])(?:style|product)\.md")

# Rules docs/security.md names as not implemented yet: they have no heading, so nothing may cite them.
NOT_IMPLEMENTED = {"TI-7", "AP-1"}

# (path, text on the line) -> why the line may keep its old citation.
EXCEPTIONS = {
    ("docusign_integration/connect/models.py", "help_text="):
        "a model field's help_text: changing it needs a migration, so it waits for the issue-13 model moves",
    ("docusign_integration/migrations/0003_envelopes_connect.py", "help_text="):
        "a migration records the help_text as it was; it changes only with the model (above)",
}


def headings(path: str, pattern: str) -> set[str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    return set(re.findall(rf"^#{{2,3}} ({pattern})(?:\s|$)", text, flags=re.MULTILINE))


SECTIONS = headings(PROTOCOL_DOC, r"§\d+(?:\.\d+)*")
RULES = headings(RULES_DOC, r"(?:[A-Z]{2}-\d+|F\d{1,2})")


def expand(first: str, last: str | None) -> list[str]:
    """`WH-1..WH-3` -> WH-1, WH-2, WH-3; a single id -> itself."""
    if not last:
        return [first]
    prefix, start = first.split("-")
    last_prefix, end = last.split("-")
    if prefix != last_prefix or int(end) < int(start):
        return [f"{first}..{last}"]
    return [f"{prefix}-{n}" for n in range(int(start), int(end) + 1)]


def problems(path: str, line: str) -> list[str]:
    """What is wrong with one line's references (empty when everything resolves)."""
    found: list[str] = []
    if OUTSIDE_DOCS.search(line):
        found.append("cites a document outside the repository")

    protocol_at = line.find(PROTOCOL_DOC)
    own_protocol_doc = path == PROTOCOL_DOC
    for match in SECTION.finditer(STANDARD_SECTION.sub("", line)):
        if own_protocol_doc or 0 <= protocol_at < match.start():
            if f"§{match.group(1)}" not in SECTIONS:
                found.append(f"{PROTOCOL_DOC} has no heading §{match.group(1)}")
        else:
            found.append(f"§{match.group(1)} without {PROTOCOL_DOC} before it")

    rules_at = line.find(RULES_DOC)
    own_rules_doc = path == RULES_DOC
    for match in RULE_ID.finditer(line):
        if own_rules_doc or 0 <= rules_at < match.start():
            for rule in expand(match.group(1), match.group(2)):
                if rule not in RULES and not (own_rules_doc and rule in NOT_IMPLEMENTED):
                    found.append(f"{RULES_DOC} has no heading {rule}")
        else:
            found.append(f"{match.group(0)} without {RULES_DOC} before it")
    if rules_at >= 0:
        for match in FIGURE.finditer(line, rules_at):
            if match.group(1) not in RULES:
                found.append(f"{RULES_DOC} has no heading {match.group(1)}")
    return found


def scanned_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    this = str(Path(__file__).resolve().relative_to(ROOT))
    return [path for path in listed.split("\0") if path.endswith(SCANNED_SUFFIXES) and path != this]


def test_the_two_documents_have_the_headings_the_code_relies_on():
    assert {"§1", "§2.1", "§2.3", "§3.4", "§4", "§5", "§6.2", "§7.4", "§7.5", "§9", "§11.7", "§12"} <= SECTIONS
    assert {"OA-1", "TS-6", "TI-6", "WH-1", "BG-1", "BI-2", "DP-4", "F5"} <= RULES


def test_every_reference_in_the_repository_resolves_to_a_heading():
    unresolved = []
    for path in scanned_files():
        for number, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), start=1):
            if any(path == where and text in line for where, text in EXCEPTIONS):
                continue
            unresolved += [f"{path}:{number}: {problem}" for problem in problems(path, line)]
    assert unresolved == []


@pytest.mark.parametrize(("line", "expected"), [
    ("# DocuSign caps tokens at an hour (docs/docusign.md §2.1).", []),
    ("# Connect (docs/docusign.md §7.3-§7.5; docs/security.md WH-1..WH-3, BI-4).", []),
    ("# RFC 6749 §4.1 and PDF 1.4 §3.4.1 are public standards.", []),
    ("# Secret parameters (RFC 6749 §4.1.2, §5.1; PKCE).", []),
    ("# The listener must answer within 100 s (protocol §7.5).", ["§7.5 without docs/docusign.md before it"]),
    ("# Offboarding removes the secrets (TS-6).", ["TS-6 without docs/security.md before it"]),
    ("# (docs/docusign.md §99)", ["docs/docusign.md has no heading §99"]),
    ("# (docs/security.md TS-99, F99)", ["docs/security.md has no heading TS-99", "docs/security.md has no heading F99"]),
    ("# docs/security.md WH-6..WH-99", [f"docs/security.md has no heading WH-{n}" for n in range(8, 100)]),
    ("# see docusign-protocol.md", ["cites a document outside the repository"]),
])
def test_the_scan_tells_a_resolved_reference_from_a_stale_or_dangling_one(line, expected):
    assert problems("portal/example.py", line) == expected
