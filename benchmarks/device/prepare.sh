#!/usr/bin/env bash
# Fill .whl/ (ignored by git, carried to the lent GPU machine) with what that machine lacks:
#   .whl/*.whl          pydantic and its parts, torch-fidelity (no network there), at the versions tested here
#   .whl/ganzoo/*.whl   ganzoo-core and every first-party plugin, built from this working tree, and SOURCES.sha256
#   .whl/data/fashion-mnist/*.gz   the IDX files (the GPU machine has no Debian package)
# then print the carried size against the 64 MiB limit. Needs PyPI (for the pinned downloads) and the venv.
#
# Usage: bash benchmarks/device/prepare.sh
#   PYTHON=... another venv; WHEEL_PYTHON=3.12 the GPU's Python; DEST=.whl another folder (to try --install here:
#   DEST=/tmp/wheels311 WHEEL_PYTHON=3.11, then session.py --dry-run --install --wheels /tmp/wheels311)
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}
wheel_python=${WHEEL_PYTHON:-3.12}
fashion=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
dest=${DEST:-.whl}
run() { nice -n 19 env OMP_NUM_THREADS=1 "$@"; }  # a long benchmark may share this machine

# .whl/ must never be committed: ignore it in this clone only
mkdir -p .git/info
grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
rm -rf "$dest"
mkdir -p "$dest/ganzoo" "$dest/data/fashion-mnist"

# 1. Dependencies the GPU machine lacks, pinned to what this venv runs (typing-extensions too: torch brings
#    one there, perhaps older than pydantic wants)
pins=$("$python" - <<'EOF'
import importlib.metadata as m
print(" ".join(f"{name}=={m.version(name)}" for name in
               ("pydantic", "pydantic-core", "annotated-types", "typing-inspection", "typing-extensions",
                "torch-fidelity")))
EOF
)
echo "prepare: downloading $pins"
# shellcheck disable=SC2086  # one argument per pin
run "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version "$wheel_python" --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$dest" $pins

# 2. ganzoo-core and the plugins, built from a copy of exactly the files a call sends (no build/ or egg-info
#    left in the working tree); SOURCES.sha256 lets the GPU machine tell whether they are stale
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git ls-files -z --cached --others --exclude-standard -- pyproject.toml README.md ganzoo benchmarks/suites plugins \
    | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -xf - -C "$src"
echo "prepare: building ganzoo-core and $(ls -d plugins/*/ | wc -l) plugin wheels"
run "$python" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation --no-index \
    -w "$dest/ganzoo" "$src" "$src"/plugins/*/
"$python" benchmarks/device/carry.py digest "$src" > "$dest/ganzoo/SOURCES.sha256"  # of the copy built

# 3. Fashion-MNIST's four IDX files, as ganzoo reads them (gzipped)
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$fashion/$name.gz" ] || { echo "prepare: no $fashion/$name.gz (apt install dataset-fashion-mnist, or set FASHION_MNIST_DIR)" >&2; exit 1; }
    cp "$fashion/$name.gz" "$dest/data/fashion-mnist/"
done

ls "$dest" "$dest/ganzoo" | sed 's/^/  /'
[ "$dest" != .whl ] || "$python" benchmarks/device/carry.py size
