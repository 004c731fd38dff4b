#!/usr/bin/env bash
# Create (or reuse) the Python venv for tests/python and install its pinned requirements.
#
#   scripts/python-venv.sh            # venv at $FULGUR_VENV, default <repo>/.venv
#
# Idempotent: a stamp file in the venv records a hash of the requirements and the Python
# version; when it matches nothing is installed. Progress goes to stderr; the last line on
# stdout is the venv path, so `venv=$(scripts/python-venv.sh | tail -n1)` works.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${FULGUR_VENV:-$repo/.venv}"
req="$repo/tests/python/requirements.txt"
python="${PYTHON:-python3}"
stamp="$venv/.fulgur-requirements.sha256"

log() { echo "python-venv: $*" >&2; }

[ -f "$req" ] || { log "missing $req"; exit 1; }
command -v "$python" >/dev/null || { log "$python not found"; exit 1; }

want="$( { "$python" -c 'import sys; print(sys.version)'; cat "$req"; } | sha256sum | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "$venv"
    exit 0
fi

make_venv() {
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
}

if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    if ! make_venv; then
        # Debian/Ubuntu split venv/ensurepip into python3-venv (and python3.X-venv).
        if "$python" -c 'import ensurepip' 2>/dev/null; then
            log "'$python -m venv $venv' failed"
            exit 1
        fi
        if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
            log "ensurepip is missing: install the python3-venv package (as root: apt-get install python3-venv)"
            exit 1
        fi
        pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        log "ensurepip is missing; installing python3-venv python$pyver-venv with apt-get"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$pyver-venv" >&2 || true
        make_venv
    fi
fi

log "installing $(grep -Ev '^\s*(#|$)' "$req" | tr '\n' ' ')into $venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
echo "$want" > "$stamp"
echo "$venv"
