"""ops/release.py run in throwaway git repositories (a one-crate Cargo workspace, a changelog and
an OpenAPI document): what it refuses, and the commit and tag it makes.

    python3 -m unittest discover -s ops -p 'test_*.py' -v
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import release  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "release.py"
DOC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "0.1.0"},
    "paths": {
        "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/things": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}
CHANGELOG = textwrap.dedent(
    """\
    # Changelog

    ## [Unreleased]

    ### Added

    - Things.

    ## [0.1.0] - 2026-11-01

    ### Added

    - Health.
    """
)
# Stands in for `make openapi`: the document as the (bumped) code would print it.
GENERATOR = textwrap.dedent(
    """\
    import json, tomllib
    version = tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"]
    doc = json.load(open("doc/openapi.json"))
    doc["info"]["version"] = version
    open("doc/openapi.json", "w").write(json.dumps(doc, indent=2) + "\\n")
    """
)


class Workspace:
    """A git repository shaped like Gota's root, at version 0.1.0 with no tag."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "a" / "src").mkdir(parents=True)
        (root / "doc").mkdir()
        (root / "Cargo.toml").write_text(textwrap.dedent(
            """\
            [workspace]
            resolver = "3"
            members = ["a"]

            [workspace.package]
            version = "0.1.0"
            edition = "2024"

            [workspace.dependencies]
            serde = { version = "1" }
            """
        ))
        (root / "a" / "Cargo.toml").write_text(
            '[package]\nname = "a"\nversion.workspace = true\nedition.workspace = true\n'
        )
        (root / "a" / "src" / "lib.rs").write_text("")
        (root / "CHANGELOG.md").write_text(CHANGELOG)
        self.write_doc(DOC)
        (root / "gen.py").write_text(GENERATOR)
        subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=root, check=True,
                       capture_output=True)
        self.git("init", "--quiet", "--initial-branch=main")
        self.git("config", "user.email", "t@example.com")
        self.git("config", "user.name", "t")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "tag.gpgsign", "false")
        self.commit("start")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.root), *args], check=True,
                              capture_output=True, text=True).stdout

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)

    def note(self, line: str) -> None:
        """Adds `line` to the changelog's Unreleased section and commits."""
        path = self.root / "CHANGELOG.md"
        path.write_text(path.read_text().replace("## [Unreleased]\n", f"## [Unreleased]\n\n- {line}\n", 1))
        self.commit(line)

    def write_doc(self, doc: dict) -> None:
        (self.root / "doc" / "openapi.json").write_text(json.dumps(doc, indent=2) + "\n")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        if args[0] == "release":
            args = (*args, "--openapi-command", f"{sys.executable} gen.py", "--date", "2026-12-03")
        return subprocess.run([sys.executable, str(SCRIPT), "--repo", str(self.root), *args],
                              capture_output=True, text=True, check=False)

    def tags(self) -> list[str]:
        return self.git("tag", "--list").split()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


class ReleaseTestCase(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.ws = Workspace(Path(tmp.name))

    def assertRefused(self, result: subprocess.CompletedProcess, words: str) -> None:
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(words, result.stderr)


class Refusals(ReleaseTestCase):
    def test_a_dirty_tree_is_refused_and_nothing_changes(self):
        head = self.ws.head()
        (self.ws.root / "a" / "src" / "lib.rs").write_text("// edited\n")
        self.assertRefused(self.ws.run("release", "0.2.0"), "not clean")
        self.assertEqual((self.ws.head(), self.ws.tags()), (head, []))

    def test_an_untracked_file_makes_the_tree_dirty(self):
        (self.ws.root / "notes.txt").write_text("x")
        self.assertRefused(self.ws.run("release", "0.2.0"), "not clean")

    def test_a_lower_or_equal_version_is_refused(self):
        for version in ("0.1.0", "0.0.9", "0.1.0-rc.1"):
            with self.subTest(version):
                self.assertRefused(self.ws.run("release", version), "not greater than the current version 0.1.0")
        self.assertEqual(self.ws.tags(), [])

    def test_a_malformed_version_is_refused(self):
        for version in ("0.2", "v0.2.0", "0.2.0.1", "01.2.0", "0.2.0-"):
            with self.subTest(version):
                self.assertRefused(self.ws.run("release", version), "is not a semantic version")

    def test_an_empty_unreleased_section_is_refused(self):
        text = CHANGELOG.replace("### Added\n\n- Things.\n\n", "", 1)
        (self.ws.root / "CHANGELOG.md").write_text(text)
        self.ws.commit("empty")
        self.assertRefused(self.ws.run("release", "0.2.0"), "Unreleased section is empty")

    def test_a_breaking_change_needs_a_minor_bump_while_0x_and_a_major_one_after(self):
        self.assertEqual(self.ws.run("release", "0.2.0").returncode, 0)
        doc = json.loads((self.ws.root / "doc" / "openapi.json").read_text())
        del doc["paths"]["/things"]
        self.ws.write_doc(doc)
        self.ws.note("drop /things")
        result = self.ws.run("release", "0.2.1")
        self.assertRefused(result, "need a minor bump (0.x), not 0.2.1")
        self.assertIn("GET /things: operation removed", result.stderr)
        self.assertEqual(self.ws.git("status", "--porcelain"), "", "a refusal leaves the tree as it was")
        self.assertEqual(self.ws.run("release", "0.3.0").returncode, 0)
        self.ws.note("stable")
        self.assertEqual(self.ws.run("release", "1.0.0").returncode, 0)
        doc["paths"].pop("/health")
        self.ws.write_doc(doc)
        self.ws.note("drop /health")
        self.assertRefused(self.ws.run("release", "1.1.0"), "need a major bump, not 1.1.0")
        self.assertEqual(self.ws.run("release", "2.0.0").returncode, 0)
        self.assertEqual(sorted(self.ws.tags()), ["v0.2.0", "v0.3.0", "v1.0.0", "v2.0.0"])

    def test_a_failing_step_restores_the_tree(self):
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "--repo", str(self.ws.root), "release", "0.2.0",
             "--openapi-command", "exit 3"], capture_output=True, text=True, check=False)
        self.assertRefused(result, "exit 3 failed")
        self.assertEqual(self.ws.git("status", "--porcelain"), "")
        self.assertEqual(self.ws.tags(), [])

    def test_a_failed_document_step_leaves_no_half_written_file(self):
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "--repo", str(self.ws.root), "release", "0.2.0",
             "--openapi-command", "echo partial > doc/openapi.json.tmp; exit 3"],
            capture_output=True, text=True, check=False)
        self.assertRefused(result, "failed")
        self.assertEqual(self.ws.git("status", "--porcelain", "--untracked-files=all"), "")

    def test_a_failed_tag_takes_the_release_commit_back(self):
        before = self.ws.head()
        # A lock file on the tag's ref: the release commit is made, then `git tag` fails.
        refs = self.ws.root / ".git" / "refs" / "tags"
        refs.mkdir(parents=True, exist_ok=True)
        (refs / "v0.2.0.lock").write_text("")
        result = self.ws.run("release", "0.2.0")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(self.ws.head(), before)
        self.assertEqual(self.ws.tags(), [])
        self.assertEqual(self.ws.git("status", "--porcelain"), "")


class HappyPath(ReleaseTestCase):
    def test_a_release_bumps_moves_the_changelog_commits_and_tags(self):
        before = self.ws.head()
        result = self.ws.run("release", "0.2.0")
        self.assertEqual(result.returncode, 0, result.stderr)
        root = self.ws.root
        self.assertEqual(self.ws.git("log", "-1", "--format=%s").strip(), "Release 0.2.0")
        self.assertEqual(self.ws.git("rev-parse", "HEAD~1").strip(), before)
        self.assertEqual(self.ws.tags(), ["v0.2.0"])
        self.assertEqual(self.ws.git("cat-file", "-t", "v0.2.0").strip(), "tag", "annotated")
        self.assertIn("gota:0.2.0", result.stdout)
        annotation = self.ws.git("tag", "--list", "--format=%(contents)", "v0.2.0")
        self.assertIn("Container image: gota:0.2.0 (amd64, arm64)", annotation)
        self.assertEqual(self.ws.git("rev-parse", "v0.2.0^{commit}"), self.ws.git("rev-parse", "HEAD"))
        changelog = (root / "CHANGELOG.md").read_text()
        self.assertIn("## [Unreleased]\n\n## [0.2.0] - 2026-12-03\n\n### Added\n\n- Things.\n", changelog)
        self.assertIn("## [0.1.0] - 2026-11-01", changelog)
        self.assertIn('version = "0.2.0"', (root / "Cargo.toml").read_text())
        self.assertIn('name = "a"\nversion = "0.2.0"', (root / "Cargo.lock").read_text())
        self.assertIn('serde = { version = "1" }', (root / "Cargo.toml").read_text(), "only the package version")
        self.assertEqual(json.loads((root / "doc" / "openapi.json").read_text())["info"]["version"], "0.2.0")
        self.assertEqual(self.ws.git("status", "--porcelain"), "")
        changed = self.ws.git("show", "--name-only", "--format=", "HEAD").split()
        self.assertEqual(sorted(changed), ["CHANGELOG.md", "Cargo.lock", "Cargo.toml", "doc/openapi.json"])

    def test_a_pre_release_then_its_release(self):
        self.assertEqual(self.ws.run("release", "1.0.0-rc.1").returncode, 0)
        self.ws.note("Final.")
        self.assertRefused(self.ws.run("release", "1.0.0-beta.2"), "not greater")
        self.assertEqual(self.ws.run("release", "1.0.0").returncode, 0)


class ApiCheck(ReleaseTestCase):
    def test_with_no_tag_it_says_so_and_passes(self):
        result = self.ws.run("api-check")
        self.assertEqual(result.returncode, 0)
        self.assertIn("no v* release tag yet", result.stdout)

    def test_an_unannounced_break_fails_and_an_announced_one_passes(self):
        self.assertEqual(self.ws.run("release", "0.2.0").returncode, 0)
        self.assertEqual(self.ws.run("api-check").returncode, 0)
        doc = json.loads((self.ws.root / "doc" / "openapi.json").read_text())
        del doc["paths"]["/things"]
        self.ws.write_doc(doc)
        result = self.ws.run("api-check")
        self.assertRefused(result, "GET /things: operation removed")
        changelog = (self.ws.root / "CHANGELOG.md").read_text()
        (self.ws.root / "CHANGELOG.md").write_text(changelog.replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n### Breaking\n\n- /things is gone.\n", 1))
        result = self.ws.run("api-check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("announced under ### Breaking", result.stdout)

    def test_a_release_tag_without_the_document_is_nothing_to_compare_with(self):
        self.ws.git("rm", "--quiet", "doc/openapi.json")
        self.ws.commit("before the document")
        self.ws.git("tag", "-a", "v0.1.0", "-m", "Release 0.1.0")
        self.ws.git("revert", "--no-edit", "HEAD")
        result = self.ws.run("api-check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("v0.1.0 has no doc/openapi.json", result.stdout)
        self.assertEqual(self.ws.run("release", "0.2.0").returncode, 0)

    def test_the_highest_version_tag_is_the_last_release(self):
        for tag in ("v0.9.0", "v0.10.0", "v0.10.0-rc.1", "vnext"):
            self.ws.git("tag", tag)
        self.assertEqual(release.Repo(self.ws.root).last_release()[0], "v0.10.0")


class Precedence(unittest.TestCase):
    def test_the_image_tag_is_the_version_with_build_metadata_made_tag_safe(self):
        for version, tag in [("0.2.0", "gota:0.2.0"), ("1.0.0-rc.1", "gota:1.0.0-rc.1"),
                             ("1.0.0+build.5", "gota:1.0.0_build.5")]:
            self.assertEqual(release.image_tag(release.Version.parse(version)), tag)

    def test_semver_11_example_order(self):
        ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                   "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0"]
        keys = [release.Version.parse(v).key() for v in ordered]
        self.assertEqual(keys, sorted(keys))
        self.assertEqual(len(set(keys)), len(keys))
        self.assertEqual(release.Version.parse("1.0.0+build.5").key(), release.Version.parse("1.0.0").key())


if __name__ == "__main__":
    unittest.main()
