#!/usr/bin/env python3
"""Releases and the API compatibility check (`make release`, `make api-check`).

Standard library only (Python 3.11+); run from the repository root (or pass --repo):

    python3 ops/release.py release 0.2.0     # make release VERSION=0.2.0
    python3 ops/release.py api-check         # make api-check

`release` refuses a dirty tree, a version that is not semantic (https://semver.org) or not
greater than the workspace's, a tag that exists, an empty `## [Unreleased]` section, and a
breaking API change (ops/api_diff.py, last `v*` tag's doc/openapi.json against the working
tree's) without a major bump (a minor bump while the major is 0). Then it bumps
[workspace.package] version in Cargo.toml, updates Cargo.lock (`cargo update --workspace
--offline`), moves `## [Unreleased]` to `## [x.y.z] - YYYY-MM-DD` under a fresh empty one,
regenerates doc/openapi.json (`make openapi`, or --openapi-command), commits "Release x.y.z"
and creates the annotated tag vx.y.z, whose message names the container image tag the release
workflow pushes (gota:x.y.z, see `image_tag`). It never pushes. A failure after the first edit restores
the tree.

`api-check` compares the working tree's doc/openapi.json with the last `v*` tag's: with no tag
it says so and passes; a breaking change passes only when the changelog's Unreleased section has
a `### Breaking` subsection (the release then needs the bump above).

Exit 0 on success, 1 when refused, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_diff  # noqa: E402

# semver.org's regular expression (section "Is there a suggested regular expression").
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
UNRELEASED = "## [Unreleased]"
OPENAPI = "doc/openapi.json"


class Refused(Exception):
    """A release or check that must not go ahead; the message says why."""


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...]
    text: str

    @staticmethod
    def parse(text: str) -> Version:
        match = SEMVER.match(text)
        if not match:
            raise Refused(f"{text!r} is not a semantic version (x.y.z, e.g. 0.2.0 or 1.0.0-rc.1)")
        pre = tuple(match.group(4).split(".")) if match.group(4) else ()
        return Version(int(match.group(1)), int(match.group(2)), int(match.group(3)), pre, text)

    def key(self) -> tuple:
        """Precedence (semver 11): a pre-release sorts before its release; numeric identifiers
        sort numerically and below alphanumeric ones; build metadata is ignored."""
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def breaking_allowed_from(self, old: Version) -> bool:
        """Whether going from `old` to this version may break clients (0.x: a minor bump)."""
        if old.major == 0 and self.major == 0:
            return self.minor > old.minor
        return self.major > old.major

    def __str__(self) -> str:
        return self.text


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise Refused(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def current_version(self) -> Version:
        with open(self.root / "Cargo.toml", "rb") as f:
            return Version.parse(tomllib.load(f)["workspace"]["package"]["version"])

    def last_release(self) -> tuple[str, Version] | None:
        """The highest `v*` tag that is a semantic version (git's own sort misorders pre-releases)."""
        tags = []
        for tag in self.git("tag", "--list", "v*").split():
            try:
                tags.append((tag, Version.parse(tag[1:])))
            except Refused:
                continue
        return max(tags, key=lambda t: t[1].key()) if tags else None

    def has_document(self, tag: str) -> bool:
        """Whether `tag` holds doc/openapi.json (releases before it was committed do not)."""
        return bool(self.git("ls-tree", "--name-only", tag, "--", OPENAPI).strip())

    def breaking_changes(self, tag: str) -> list[api_diff.Break]:
        if not self.has_document(tag):
            return []
        old = json.loads(self.git("show", f"{tag}:{OPENAPI}"))
        new = json.loads((self.root / OPENAPI).read_text(encoding="utf-8"))
        return api_diff.breaking_changes(old, new)


def unreleased_section(changelog: str) -> str:
    start = changelog.find(UNRELEASED)
    if start < 0:
        raise Refused(f"CHANGELOG.md has no {UNRELEASED!r} section")
    body = changelog[start + len(UNRELEASED):]
    following = re.search(r"^## ", body, re.MULTILINE)
    return body[: following.start()] if following else body


def announces_breaking(changelog: str) -> bool:
    return re.search(r"^### Breaking\b", unreleased_section(changelog), re.MULTILINE) is not None


def moved_changelog(changelog: str, version: Version, date: str) -> str:
    """The Unreleased entries under `## [x.y.z] - date`, with a fresh empty Unreleased above."""
    if not re.search(r"\S", unreleased_section(changelog)):
        raise Refused("the changelog's Unreleased section is empty: say what this release changes")
    return changelog.replace(UNRELEASED, f"{UNRELEASED}\n\n## [{version}] - {date}", 1)


def bumped_cargo_toml(text: str, version: Version) -> str:
    """Cargo.toml with [workspace.package] version set; the rest of the file untouched."""
    section = re.search(r"^\[workspace\.package\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    if not section:
        raise Refused("Cargo.toml has no [workspace.package] table")
    body, count = re.subn(
        r'^version\s*=\s*"[^"]*"', f'version = "{version}"', section.group(1), count=1, flags=re.MULTILINE
    )
    if count != 1:
        raise Refused("Cargo.toml's [workspace.package] has no version")
    return text[: section.start(1)] + body + text[section.end(1):]


def api_check(repo: Repo) -> str:
    last = repo.last_release()
    if last is None:
        return "api-check: no v* release tag yet; nothing to compare with"
    tag, _ = last
    if not repo.has_document(tag):
        return f"api-check: {tag} has no {OPENAPI}; nothing to compare with"
    found = repo.breaking_changes(tag)
    if not found:
        return f"api-check: {OPENAPI} is compatible with {tag}'s"
    listing = "\n".join(f"  {b}" for b in found)
    changelog = (repo.root / "CHANGELOG.md").read_text(encoding="utf-8")
    if announces_breaking(changelog):
        return (
            f"api-check: breaking changes since {tag}, announced under ### Breaking "
            f"(the next release needs a major bump, or a minor one while 0.x):\n{listing}"
        )
    raise Refused(
        f"breaking changes to {OPENAPI} since {tag}:\n{listing}\n"
        "Keep the old behaviour, or announce them under '### Breaking' in CHANGELOG.md's "
        "Unreleased section (see doc/releasing.md)."
    )


def release(repo: Repo, text: str, openapi_command: str, cargo: str, date: str) -> str:
    version = Version.parse(text)
    if repo.git("status", "--porcelain"):
        raise Refused("the working tree is not clean: commit or stash first")
    current = repo.current_version()
    if version.key() <= current.key():
        raise Refused(f"{version} is not greater than the current version {current}")
    if repo.git("tag", "--list", f"v{version}").strip():
        raise Refused(f"tag v{version} exists")
    changelog_path = repo.root / "CHANGELOG.md"
    changelog = moved_changelog(changelog_path.read_text(encoding="utf-8"), version, date)
    last = repo.last_release()
    if last is not None:
        tag, previous = last
        found = repo.breaking_changes(tag)
        if found and not version.breaking_allowed_from(previous):
            listing = "\n".join(f"  {b}" for b in found)
            needed = "a minor bump (0.x)" if previous.major == 0 else "a major bump"
            raise Refused(f"breaking changes since {tag} need {needed}, not {version}:\n{listing}")
    start = repo.git("rev-parse", "HEAD").strip()
    try:
        cargo_toml = repo.root / "Cargo.toml"
        cargo_toml.write_text(bumped_cargo_toml(cargo_toml.read_text(encoding="utf-8"), version), encoding="utf-8")
        run([cargo, "update", "--workspace", "--offline"], repo.root)
        changelog_path.write_text(changelog, encoding="utf-8")
        run(["sh", "-c", openapi_command], repo.root)
        repo.git("add", "Cargo.toml", "Cargo.lock", "CHANGELOG.md", OPENAPI)
        repo.git("commit", "--quiet", "-m", f"Release {version}")
        repo.git("tag", "--annotate", f"v{version}", "-m", f"Release {version}",
                 "-m", f"Container image: {image_tag(version)} (amd64, arm64)")
    except BaseException:
        # Back to where we started: the release commit too, if only the tag failed, and the
        # half-written document `make openapi` may leave (it would make the tree dirty).
        repo.git("reset", "--quiet", "--hard", start, check=False)
        (repo.root / (OPENAPI + ".tmp")).unlink(missing_ok=True)
        raise
    return (f"Released {version}: commit 'Release {version}' and tag v{version} (not pushed); "
            f"its container image is {image_tag(version)}")


def image_tag(version: Version) -> str:
    """The container image tag of a release: `gota:` + the version, with semver's build
    metadata separator `+` as `_` (an image tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, OCI
    distribution-spec "Pulling manifests"; `make image` and the release workflow do the same)."""
    return "gota:" + version.text.replace("+", "_")


def run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise Refused(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}".rstrip())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="repository root")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("release", help="bump, move the changelog, commit and tag")
    make.add_argument("version")
    make.add_argument("--openapi-command", default="make --no-print-directory openapi")
    make.add_argument("--date", default=datetime.date.today().isoformat())
    commands.add_parser("api-check", help="breaking changes since the last v* tag")
    args = parser.parse_args(argv[1:])
    repo = Repo(args.repo.resolve())
    try:
        if args.command == "release":
            message = release(repo, args.version, args.openapi_command, os.environ.get("CARGO", "cargo"), args.date)
        else:
            message = api_check(repo)
    except Refused as refused:
        print(f"{args.command}: refused: {refused}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
