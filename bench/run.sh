#!/usr/bin/env bash
# bench/run.sh: runs the benchmark suite and prints one JSON document on
# stdout (progress on stderr). It does not build: `make bench` builds first,
# or run `cmake --build build` yourself. Binaries are taken from
# ${CRM_BUILD_DIR:-build}/bin (a relative CRM_BUILD_DIR is taken from the
# current directory; the default is the repository's build/). Arguments are
# passed to bench/bench.py, e.g. `bench/run.sh --only latency --seconds 5`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
if [[ -n "${CRM_BUILD_DIR:-}" ]]; then
    build=$(cd "$CRM_BUILD_DIR" 2>/dev/null && pwd) || {
        echo "bench: CRM_BUILD_DIR=$CRM_BUILD_DIR does not exist" >&2
        exit 1
    }
else
    build="$root/build"
fi

# The driver needs only the standard library; prefer the system's python3.
python=${CRM_PYTHON:-}
if [[ -z "$python" ]]; then
    if [[ -x /usr/bin/python3 ]]; then python=/usr/bin/python3; else python=python3; fi
fi

exec "$python" "$here/bench.py" --bin "$build/bin" "$@"
