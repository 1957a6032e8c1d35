#!/bin/sh
# Make the virtualenv the Makefile's targets run in, with a Python that the Keras backend supports.
#
#   sh tools/make_venv.sh VENV STAMP    create VENV (if needed), install the requirements, touch STAMP
#   sh tools/make_venv.sh --check VENV  only say which Python would be used (the tests call this)
#
# BACKEND=tensorflow (the default; requirements.txt), jax (requirements-jax.txt) or torch
# (requirements-torch.txt). The Python: $PYTHON when given; else the first of python3.14 ...
# python3.11, python3 whose version, asked by running it, the backend supports (Keras 3.15 needs
# 3.11 or newer); else, where uv
# is on the PATH, a Python 3.13 that uv fetches. Otherwise a short message and exit status 2,
# with nothing left in VENV. GPU=1 also installs TensorFlow's NVIDIA GPU build.
set -u
# widen when a backend ships wheels for a newer Python
case "${BACKEND:-tensorflow}" in
    jax) SUPPORTED="3.11 3.12 3.13 3.14"; RANGE="3.11-3.14"; TENSORFLOW="JAX 0.10"
         REQUIREMENTS=requirements-jax.txt ;;
    torch) SUPPORTED="3.11 3.12 3.13 3.14"; RANGE="3.11-3.14"; TENSORFLOW="PyTorch 2.13"
           REQUIREMENTS=requirements-torch.txt ;;
    *) SUPPORTED="3.11 3.12 3.13"; RANGE="3.11-3.13"; TENSORFLOW="TensorFlow 2.21"
       REQUIREMENTS=requirements.txt ;;
esac
OTHERS="3.14"   # Pythons that only JAX and PyTorch support: make offers them instead

check_only=0
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
venv=${1:-.venv}
stamp=${2:-$venv/.installed}

version_of() {  # "3.11", or nothing if $1 does not run (a missing command, a pyenv shim without that version)
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}
is_supported() {
    case " $SUPPORTED " in *" $1 "*) return 0 ;; esac
    return 1
}
say() { printf '%s\n' "$*" >&2; }
no_python() {  # $1: what was found instead
    say "No Python that $TENSORFLOW supports ($RANGE) was found$1."
    case " $OTHERS " in *" ${seen:-none} "*)
        [ "${BACKEND:-tensorflow}" = tensorflow ] &&
            say "JAX and PyTorch support Python $seen: make ann BACKEND=jax (or BACKEND=torch) uses it." ;;
    esac
    say "Get one, then run make again:"
    say "  - uv python install 3.13            (uv: https://docs.astral.sh/uv/)"
    say "  - your system's package manager     (e.g. apt install python3.12, brew install python@3.13)"
    say "  - python.org/downloads"
    say "Or point make at one: make ann PYTHON=/path/to/python3.13"
    exit 2
}

# A virtualenv made earlier: keep it if its Python is supported, else say what to do.
if [ -e "$venv/bin/python" ]; then
    have=$(version_of "$venv/bin/python")
    if is_supported "$have"; then
        say "Python $have ($venv/bin/python); $TENSORFLOW supports $RANGE"
        [ "$check_only" = 1 ] && exit 0
        python="$venv/bin/python"
    else
        say "$venv was made with Python ${have:-that no longer runs}, which $TENSORFLOW does not support ($RANGE):"
        say "remove it (make clean, or rm -rf $venv) and run make again."
        exit 2
    fi
else
    python=""
    found=""
    seen=""  # the version of the first Python found, when none is supported
    made=0
    if [ -n "${PYTHON:-}" ]; then
        have=$(version_of "$PYTHON")
        seen=$have
        if ! is_supported "$have"; then
            no_python "; PYTHON=$PYTHON is ${have:+Python }${have:-not a Python that runs}"
        fi
        python=$PYTHON
        why="PYTHON=$PYTHON"
    else
        for candidate in python3.14 python3.13 python3.12 python3.11 python3; do
            path=$(command -v "$candidate" 2>/dev/null) || continue
            have=$(version_of "$path")
            [ -n "$have" ] && [ -z "$found" ] && found="; $candidate is Python $have" && seen=$have
            if is_supported "$have"; then python=$path; break; fi
        done
    fi
    if [ -n "$python" ]; then
        say "Python $have ($python); $TENSORFLOW supports $RANGE"
        [ "$check_only" = 1 ] && exit 0
        "$python" -m venv "$venv" || { rm -rf "$venv"; say "could not create $venv with $python"; exit 2; }
        made=1
    elif command -v uv >/dev/null 2>&1; then
        say "No Python $RANGE on the PATH$found: fetching Python 3.13 with uv"
        [ "$check_only" = 1 ] && exit 0
        if ! uv venv --seed --python 3.13 "$venv" >&2; then
            rm -rf "$venv"
            no_python "$found, and uv could not fetch Python 3.13 (offline?)"
        fi
        made=1
    else
        no_python "$found"
    fi
fi

# Install the lock with uv, the installer the lock names (pip installs it first): the same exact
# versions that `pip install -r` installs, in parallel and so much sooner (the .pyc files too, as pip
# writes them: without them every first import compiles TensorFlow anew). uv does not read
# pip's settings, so a folder of wheels that pip is told of (PIP_FIND_LINKS: PyTorch's CPU build, say)
# is passed on to it. A failed install leaves no half-made virtualenv behind.
uv_pin=$(sed -n 's/^\(uv==[^ ;]*\).*/\1/p' "$REQUIREMENTS")
links=""
for folder in ${PIP_FIND_LINKS:-}; do links="$links --find-links $folder"; done
install() {  # the lock (or what $@ names) into the virtualenv
    "$venv/bin/python" -m uv pip install --quiet --compile-bytecode --python "$venv/bin/python" $links "$@"
}
if ! { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${uv_pin:-uv}" &&
       install -r "$REQUIREMENTS" &&
       { [ -z "${GPU:-}" ] || install "tensorflow[and-cuda]~=2.21.0"; }; }; then
    if [ "${made:-0}" = 1 ]; then
        rm -rf "$venv"
        say "installing $REQUIREMENTS into $venv failed (see above); $venv was removed: run make again"
    else
        say "installing $REQUIREMENTS into $venv failed (see above): run make again"
    fi
    exit 2
fi
touch "$stamp"
