"""README.md and docs/: every link and image resolves (files, and #anchors to headings of the file
they point into), and README stays a guide: at most 350 lines, none over 200 characters, and no
project history in it (run by Debian's /usr/bin/python3: cd tests && /usr/bin/python3 -m unittest
-v test_docs)."""
import glob
import os
import re
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path):
    """The #anchors GitHub gives the headings of a Markdown file."""
    out = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#+\s+(.*)", line)
            if m:
                slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
                out.add(slug)
    return out


def documents():
    return [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def broken_links(path):
    """The links of a Markdown file that do not resolve, as 'target (why)'."""
    bad = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        file, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(resolved):
            bad.append(f"{target} (no such file)")
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            bad.append(f"{target} (no such heading)")
    return bad


class Links(unittest.TestCase):
    def test_every_link_resolves(self):
        self.assertGreaterEqual(len(documents()), 5)
        for path in documents():
            with self.subTest(document=os.path.relpath(path, ROOT)):
                self.assertEqual(broken_links(path), [])

    def test_a_broken_link_is_found(self):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "gate.md"), "w", encoding="utf-8") as f:
                f.write("# Gate\n")
            probe = os.path.join(folder, "probe.md")
            with open(probe, "w", encoding="utf-8") as f:
                f.write("# Probe\n[a](gate.md) [b](nosuch.md) [c](#probe) [d](#nowhere) [e](gate.md#nowhere) "
                        "[f](https://example.org/x) [g](gate.md#gate)\n")
            self.assertEqual(broken_links(probe), ["nosuch.md (no such file)", "#nowhere (no such heading)",
                                                   "gate.md#nowhere (no such heading)"])


class Readme(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            self.lines = f.read().split("\n")

    def test_a_guide_in_length(self):
        self.assertLessEqual(len(self.lines), 350)
        long = [i + 1 for i, line in enumerate(self.lines) if len(line) > 200]
        self.assertEqual(long, [], "lines over 200 characters")

    def test_no_project_history(self):
        history = re.compile(r"sitting|session|issue [0-9]|tried and dropped|[0-9a-f]{7} ->", re.I)
        self.assertEqual([line for line in self.lines if history.search(line)], [])


if __name__ == "__main__":
    unittest.main()
