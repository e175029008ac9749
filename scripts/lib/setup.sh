# shellcheck shell=bash
# Shared set-up for the scripts in scripts/: where the repository is, the system packages
# Conc needs, and the quiet release build. Sourced, never run.
#
# Environment:
#   CONC_SCRATCH_PATH  build folder (default: <repo>/.build); the binary is <it>/release/conc
#   CONC_REBUILD=1     make scripts/conc run `swift build` even when no source looks newer

# The repository root, from this file's own path (scripts may be called from anywhere).
CONC_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd -P)
CONC_SCRATCH=${CONC_SCRATCH_PATH:-$CONC_ROOT/.build}
CONC_RELEASE_BIN=$CONC_SCRATCH/release/conc

# The Debian packages the build needs: libedit (the REPL's line editor) and pkg-config,
# through which SwiftPM finds it.
conc_missing_packages() {
    local missing=()
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    if command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Status}' libedit-dev 2>/dev/null | grep -q 'ok installed' ||
            missing+=(libedit-dev)
    elif ! pkg-config --exists libedit 2>/dev/null; then
        missing+=(libedit-dev)
    fi
    echo "${missing[@]}"
}

# mimalloc (libmimalloc-dev), the faster malloc the `conc` binary links when it is there
# (Package.swift): wanted, not needed. Installed with the needed packages when apt-get can;
# otherwise the build uses the C library's malloc and one line says so.
conc_missing_optional_packages() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    dpkg-query -W -f='${Status}' libmimalloc-dev 2>/dev/null | grep -q 'ok installed' ||
        echo libmimalloc-dev
}

# Installs what is missing when running as root with apt-get; otherwise says what to
# install and exits 2.
conc_ensure_packages() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        PATH=/opt/swift/usr/bin:$PATH
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "Conc needs the Swift 6 toolchain: put swift on PATH and run this again." >&2
        exit 2
    fi
    local missing optional
    missing=$(conc_missing_packages)
    optional=$(conc_missing_optional_packages)
    if [ -n "$optional" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        conc_apt_install_quietly "$optional" ||
            echo "setup: $optional is not installable here; conc uses the C library's malloc (slower)" >&2
    elif [ -n "$optional" ]; then
        echo "setup: conc runs faster with $optional (sudo apt-get install -y $optional)" >&2
    fi
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "Conc needs the system package(s) $missing: install them (sudo apt-get install -y $missing) and run this again." >&2
        exit 2
    fi
    if ! conc_apt_install_quietly "$missing"; then
        echo "setup: apt-get could not install $missing" >&2
        exit 2
    fi
}

# apt-get installs the packages named in $1, printing apt's output only if it fails.
conc_apt_install_quietly() {
    echo "setup: installing $1 with apt-get" >&2
    local log
    log=$(mktemp)
    # shellcheck disable=SC2086 # $1 is a list of package names
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $1; } \
        </dev/null >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# True when the release binary exists and nothing under Sources/ or Package.swift is newer.
# A deleted or added file changes its folder's time, which counts too.
conc_release_is_current() {
    [ -x "$CONC_RELEASE_BIN" ] || return 1
    [ "${CONC_REBUILD:-0}" = 1 ] && return 1
    [ -z "$(find "$CONC_ROOT/Sources" "$CONC_ROOT/Package.swift" -newer "$CONC_RELEASE_BIN" \
        -print -quit 2>/dev/null)" ]
}

# Builds the `conc` product in release mode, printing the build's output only if it fails.
conc_build_release() {
    local log status=0
    # The binary carries a copy of stdlib/ (so a copied binary still finds it): refresh it.
    if command -v python3 >/dev/null 2>&1; then "$CONC_ROOT/scripts/embed-stdlib"; fi
    log=$(mktemp)
    # --static-swift-stdlib: the dynamic loader's binding of the Swift libraries was half
    # of conc's start-up (8 ms -> 5 ms), paid by every script and benchmark run.
    (cd "$CONC_ROOT" && swift build -c release --product conc --static-swift-stdlib --scratch-path "$CONC_SCRATCH") \
        </dev/null >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        cat "$log" >&2
        rm -f "$log"
        echo "setup: the release build failed (swift build -c release --product conc --static-swift-stdlib)" >&2
        exit "$status"
    fi
    rm -f "$log"
}
