#!/usr/bin/env bash
# One lent GPU session's work for ganzoo, time-boxed to 8.5 minutes, its results in OUT/device (at most 8 files).
# See README.md beside this file; the work itself is session.py's.
#
#   bash benchmarks/device/run.sh                       # on the GPU machine, OUT set by the device tool
#   PYTHON=.venv/bin/python bash benchmarks/device/run.sh --dry-run --out /tmp/dry   # every step, tiny, on a CPU
#   ... --dry-run --install                             # and install the carried wheels, as the GPU machine does
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root
out=${OUT:-}
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run|--install) args+=("$1") ;;
        --out) out=${2:?run.sh: --out needs a folder}; shift ;;
        *) echo "run.sh: unknown argument '$1' (use --dry-run, --install, --out DIR)" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$out" ] || { echo "run.sh: no output folder: set OUT or give --out DIR" >&2; exit 2; }
exec "${PYTHON:-python3}" -u benchmarks/device/session.py ${args[@]+"${args[@]}"} --out "$out"
