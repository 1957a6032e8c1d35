#!/bin/sh
# make lock: the locks (requirements.txt, requirements-jax.txt, requirements-torch.txt and
# requirements-site.txt) written anew from the intent (the *.in files' ranges), by uv's
# `uv pip compile --universal`: one lock per backend for every Python from 3.11 (Keras 3.15's
# floor) and every platform, each package at one exact version (a marker where a Python or a
# platform needs another). make, .ci/run and a reader's `pip install -r requirements.txt` install
# exactly these versions.
#
# Why uv: pip-tools' pip-compile resolves for the Python and platform it runs on, so a lock made on
# Linux with Python 3.11 can miss what Python 3.13 on a Mac needs; uv resolves for all of them
# at once. Why no hashes: pip's hash-checking mode refuses the tutorial's own editable package
# (-e .) and PyTorch's CPU build, whose wheel (from PyTorch's index, the one a reader without a
# GPU should take: README) is another file than PyPI's CUDA build of the same version. The
# versions are pinned exactly all the same. PyTorch's CUDA libraries (nvidia-*, triton, cuda-*)
# are left to torch's own metadata: PyPI's Linux wheel pins them exactly, the CPU build needs none.
#
#   sh tools/lock.sh            the locks, from the *.in files
#   UPGRADE=1 sh tools/lock.sh  the same, at the newest versions the ranges admit
set -eu
cd "$(dirname "$0")/.."
tool=.venv-lock
if [ ! -x "$tool/bin/uv" ]; then  # uv, in a virtualenv of its own
    python3 -m venv "$tool"
    "$tool/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"
fi
uv="$tool/bin/uv"
header="# Written by make lock (tools/lock.sh) from INPUT: do not edit; change INPUT, then make lock."
compile() {  # $1 the intent, $2 the lock, then uv's own options
    input=$1 lock=$2
    shift 2
    "$uv" pip compile --quiet --universal --python-version 3.11 --no-header --no-annotate \
        ${UPGRADE:+--upgrade} "$@" "$input" -o "$lock.partial"
    { printf '%s\n' "$header" | sed "s/INPUT/$input/g"; cat "$lock.partial"; } >"$lock"
    rm -f "$lock.partial"
    echo "$lock: $(grep -c '==' "$lock") packages"
}
compile requirements.in requirements.txt
compile requirements-jax.in requirements-jax.txt
cuda=$("$uv" pip compile --quiet --universal --python-version 3.11 --no-header --no-annotate \
    requirements-torch.in | sed -n 's/^\(nvidia-[a-z0-9-]*\|triton\|cuda-[a-z-]*\)==.*/\1/p')
compile requirements-torch.in requirements-torch.txt $(printf -- '--no-emit-package %s ' $cuda)
# the site's packages, installed on top of a backend's virtualenv, agree with TensorFlow's lock
grep -v '^-e' requirements.txt >"$tool/constraints.txt"  # pip takes no editable constraint
compile requirements-site.in requirements-site.txt --constraint "$tool/constraints.txt"
