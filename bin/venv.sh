# Sourced by bin/start, bin/manage and bin/test: make .venv with Python 3.11+ and install
# requirements-dev.txt (the runtime requirements.txt plus the test tools) into it,
# skipping pip when both files and the interpreter are unchanged since the last
# successful install.
# Set PYTHON to choose the interpreter used to create the venv.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is needed; none found (set PYTHON=/path/to/python3.11)." >&2
    return 1
}

if [[ ! -x "$VENV/bin/python" ]]; then
    base_python="$(find_python)"
    echo "Creating $VENV with $("$base_python" --version)"
    "$base_python" -m venv "$VENV"
fi

if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: $VENV has $("$VENV/bin/python" --version 2>&1); 3.11 or newer is needed: remove .venv and rerun." >&2
    exit 1
fi

stamp="$VENV/.requirements.sha256"
wanted="$("$VENV/bin/python" - <<'PY'
import hashlib, sys
digest = hashlib.sha256()
for name in ("requirements.txt", "requirements-dev.txt"):
    digest.update(open(name, "rb").read())
digest = digest.hexdigest()
print(f"{digest} {sys.version.split()[0]}")
PY
)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    echo "Installing requirements-dev.txt into .venv (log: .venv/pip-install.log)"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -r requirements-dev.txt \
        >"$VENV/pip-install.log" 2>&1; then
        tail -n 30 "$VENV/pip-install.log" >&2
        echo "error: pip could not install requirements-dev.txt (full log: .venv/pip-install.log)" >&2
        exit 1
    fi
    echo "$wanted" >"$stamp"
fi

export PATH="$VENV/bin:$PATH"
export PYTHONUNBUFFERED=1
