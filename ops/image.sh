#!/usr/bin/env bash
# `make image`: the container image of the standalone gota-api (Containerfile), per architecture,
# from a static musl build, and a manifest list over them.
#
#   ops/image.sh                          # amd64 and arm64
#   ARCHES=amd64 ops/image.sh             # one architecture
#   CONTAINER=docker ops/image.sh         # default: podman if installed, else docker
#   CONTAINER=ops/podman/podman ops/image.sh   # this project's machines (see that script)
#
# For each ARCH: `cargo zigbuild --release` for its musl target (Zig from .venv links the C
# parts), a check that the result is static and of that architecture, a staging context
# target/image/context-ARCH/ (the binary, certifi's CA bundle, /etc/passwd and /etc/group for
# uid/gid 10001, an empty 0700 volume/data/) — never the repository with its target/ — then
# `build` tagged gota:VERSION-ARCH and `save` to target/image/gota-VERSION-ARCH.tar (a
# docker-archive: `docker load` and `podman load` both read it). With podman, a manifest list
# gota:VERSION over the arches built (Docker's classic image store holds no manifest lists:
# `docker buildx build --platform … --push` makes one in a registry, as the release workflow does).
#
# Reproducible content: file times, the image's `created` and its label come from the commit's
# time (podman `--timestamp`, BuildKit `SOURCE_DATE_EPOCH`), so a rebuild of the same commit
# gives the same layer digest. Not the same image id with podman 4.3: a Docker-format config
# carries the build container's id (`container`, `container_config.Hostname`).
# GOTA_IMAGE_SKIP_BUILD=1 reuses the binaries already built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

ARCHES="${ARCHES:-amd64 arm64}"
if [ -z "${CONTAINER:-}" ]; then
    if command -v podman >/dev/null; then CONTAINER=podman
    elif command -v docker >/dev/null; then CONTAINER=docker
    else echo "ops/image.sh: neither podman nor docker is installed (make image installs podman as root)" >&2; exit 1
    fi
fi
case "$(basename "$CONTAINER")" in
    podman*) kind=podman ;;
    *) kind=docker ;;
esac
python="$repo/.venv/bin/python"
[ -x "$python" ] || { echo "ops/image.sh: $python is missing: run make deps" >&2; exit 1; }
export PATH="$repo/.venv/bin:$PATH"

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
# An image tag has no '+': semver build metadata becomes '_' (as ops/release.py's image_tag).
tag_version="${version//+/_}"
revision="$(git rev-parse HEAD)"
[ -z "$(git status --porcelain --untracked-files=no)" ] || revision="$revision-dirty"
epoch="$(git log -1 --format=%ct)"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
source="${GOTA_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || true)}"
ca_bundle="$("$python" -c 'import certifi; print(certifi.where())')"
ca_version="$("$python" -c 'import importlib.metadata as m; print(m.version("certifi"))')"
out="$repo/target/image"
mkdir -p "$out"

# Refuses a binary that asks for a dynamic loader (an ELF PT_INTERP program header): FROM
# scratch has none, and the container would fail with a bare "no such file or directory".
static_elf() {
    "$python" - "$1" "$2" <<'PY'
import struct, sys
path, machine = sys.argv[1], {"amd64": 62, "arm64": 183}[sys.argv[2]]
with open(path, "rb") as f:
    head = f.read(64)
    if head[:4] != b"\x7fELF" or head[4] != 2:
        sys.exit(f"{path}: not a 64-bit ELF file")
    e_machine = struct.unpack_from("<H", head, 18)[0]
    if e_machine != machine:
        sys.exit(f"{path}: ELF machine {e_machine}, expected {machine} ({sys.argv[2]})")
    phoff, = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    f.seek(phoff)
    table = f.read(phentsize * phnum)
for i in range(phnum):
    if struct.unpack_from("<I", table, i * phentsize)[0] == 3:  # PT_INTERP
        sys.exit(f"{path}: dynamically linked (has an interpreter); the image needs a static binary")
PY
}

# Before the binary goes into an image, it must start, answer its own health check and stop
# with exit 0 on SIGTERM — natively, or for the other architecture under qemu's user-mode
# emulation (Debian's qemu-user-static: no binfmt registration needed for a static binary).
# Without qemu for a foreign architecture, this says so and goes on.
smoke_test() {
    local binary="$1" arch="$2" runner=()
    case "$arch" in
        "$host_arch") ;;
        amd64) runner=(qemu-x86_64-static) ;;
        arm64) runner=(qemu-aarch64-static) ;;
    esac
    if [ ${#runner[@]} -gt 0 ] && ! command -v "${runner[0]}" >/dev/null; then
        echo "ops/image.sh: $arch binary not run: ${runner[0]} is missing (apt-get install qemu-user-static)" >&2
        return 0
    fi
    local port data pid status=0
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    data="$(mktemp -d)"
    GOTA_LISTEN="127.0.0.1:$port" GOTA_DATA_DIR="$data" RUST_LOG=warn \
        "${runner[@]}" "$binary" >"$data.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        GOTA_LISTEN="127.0.0.1:$port" "${runner[@]}" "$binary" healthcheck 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! GOTA_LISTEN="127.0.0.1:$port" "${runner[@]}" "$binary" healthcheck; then
        kill -KILL "$pid" 2>/dev/null || true
        cat "$data.log" >&2
        rm -rf "$data" "$data.log"
        echo "ops/image.sh: the $arch binary did not answer its health check" >&2
        return 1
    fi
    kill -TERM "$pid"
    wait "$pid" || status=$?
    rm -rf "$data" "$data.log"
    if [ "$status" -ne 0 ]; then
        echo "ops/image.sh: the $arch binary exited $status on SIGTERM" >&2
        return 1
    fi
    echo "ops/image.sh: $binary started, answered /health and stopped on SIGTERM${runner:+ (under ${runner[0]})}"
}

case "$(uname -m)" in
    x86_64) host_arch=amd64 ;;
    aarch64 | arm64) host_arch=arm64 ;;
    *) host_arch=unknown ;;
esac

built=()
for arch in $ARCHES; do
    case "$arch" in
        amd64) triple=x86_64-unknown-linux-musl ;;
        arm64) triple=aarch64-unknown-linux-musl ;;
        *) echo "ops/image.sh: ARCHES: unknown architecture $arch (amd64, arm64)" >&2; exit 2 ;;
    esac
    if [ -z "${GOTA_IMAGE_SKIP_BUILD:-}" ]; then
        rustup target list --installed | grep -qx "$triple" || rustup target add "$triple" || {
            echo "ops/image.sh: could not add the Rust target $triple (rustup needs network access once)" >&2
            exit 1
        }
        cargo zigbuild --release --target "$triple" -p gota-core --bin gota-api
    fi
    binary="target/$triple/release/gota-api"
    static_elf "$binary" "$arch"
    smoke_test "$binary" "$arch"

    context="$out/context-$arch"
    rm -rf "$context"
    mkdir -p "$context/etc" "$context/volume/data"
    chmod 0700 "$context/volume/data"
    install -m 0755 "$binary" "$context/gota-api"
    install -m 0644 "$ca_bundle" "$context/ca-certificates.crt"
    printf 'gota:x:10001:10001:gota:/data:/sbin/nologin\n' > "$context/etc/passwd"
    printf 'gota:x:10001:\n' > "$context/etc/group"
    chmod 0644 "$context/etc/passwd" "$context/etc/group"
    find "$context" -exec touch -h -d "@$epoch" {} +

    # localhost/ with either tool: the name the archive carries, so that `docker load` of a
    # podman-built archive and of a Docker-built one give the same image name (podman names a
    # bare gota:… localhost/gota:…, Docker docker.io/library/gota:…).
    tag="localhost/gota:$tag_version-$arch"
    args=(build --file Containerfile --platform "linux/$arch" --tag "$tag"
        --build-arg "VERSION=$version" --build-arg "REVISION=$revision"
        --build-arg "CREATED=$created" --build-arg "SOURCE=$source"
        --build-arg "CA_BUNDLE=certifi $ca_version")
    if [ "$kind" = podman ]; then
        # docker format: OCI image configs have no HEALTHCHECK (podman drops it with a warning).
        # --layers=false: no per-step images and no layer cache (buildah 1.28 reused a cached
        # LABEL step whose build-arg values had changed: a new commit kept the old revision).
        "$CONTAINER" "${args[@]}" --format docker --layers=false --timestamp "$epoch" "$context"
    else
        SOURCE_DATE_EPOCH="$epoch" "$CONTAINER" "${args[@]}" "$context"
    fi
    archive="$out/gota-$tag_version-$arch.tar"
    rm -f "$archive"
    "$CONTAINER" save --output "$archive" "$tag"
    built+=("$tag")
    echo "ops/image.sh: $tag → ${archive#"$repo"/} ($(du -h "$archive" | cut -f1))"
done

if [ "$kind" = podman ]; then
    list="localhost/gota:$tag_version"
    "$CONTAINER" manifest rm "$list" >/dev/null 2>&1 || "$CONTAINER" rmi "$list" >/dev/null 2>&1 || true
    "$CONTAINER" manifest create "$list" >/dev/null
    for tag in "${built[@]}"; do
        "$CONTAINER" manifest add "$list" "containers-storage:$tag" >/dev/null
    done
    echo "ops/image.sh: manifest list $list over ${built[*]}"
fi
