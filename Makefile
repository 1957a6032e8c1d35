# The tutorial's commands. Each creates .venv from requirements.txt (a lock: exact versions) on
# first use.
#   make ann      train and evaluate the churn ANN (1_artificial_neural_networks/ann.py)
#   make cnn      train and evaluate the cats-vs-dogs CNN (2_convolutional_neural_networks/cnn.py)
#   make transfer the same photos on a network pretrained on ImageNet (.../transfer_learning.py)
#   make ann-theory  how the ANN learns, by hand and checked against Keras (.../how_ann_learns.py)
#   make cnn-theory  how the CNN sees, by hand and checked against Keras (.../how_cnn_sees.py)
#   make test     run the test suite (under JAX or PyTorch: the tests marked backends, as CI does)
#   make bench    run the benchmarks: they print their figures and write docs/measurements.md,
#                 the file the README quotes (well over an hour on a 2-core CPU: see that file)
#   make notebooks  write notebooks/ann.ipynb and notebooks/cnn.ipynb from the scripts (jupytext)
#   make site     the tutorial as a web site in build/site/ (open build/site/index.html): the README,
#                 docs/ and each chapter run as a notebook (cached; ARGS=--quick for short runs);
#                 make test-site builds it and tests it in a browser (Debian's chromium)
#   make lint     check the code's format and lint it (ruff; make format rewrites it)
#   make lock     write the locks (requirements*.txt) anew from the ranges (requirements*.in), with uv
#   make newest   throwaway virtualenvs at the newest releases of Keras, JAX and PyTorch: which speed
#                 changes would turn off, and what fails (tools/newest.py)
# Options: BACKEND=jax or BACKEND=torch runs Keras on JAX or PyTorch, in .venv-jax or .venv-torch
# (from the locks requirements-jax.txt, requirements-torch.txt; TensorFlow, in .venv, is the default);
# ARGS="--epochs 10" passes flags to a script; GPU=1 installs TensorFlow's NVIDIA GPU build
# (Linux); DLP_DATA_DIR=folder uses a local copy of the data; PYTHON=/path/to/python3.13 chooses
# the Python (otherwise tools/make_venv.sh finds one that the backend supports, or fetches one
# with uv).

PYTHON ?=
BACKEND ?= $(or $(KERAS_BACKEND),tensorflow)
ifeq ($(filter tensorflow jax torch,$(BACKEND)),)
$(error BACKEND=$(BACKEND): choose tensorflow, jax or torch)
endif
KERAS_BACKEND := $(BACKEND)
export PYTHON GPU BACKEND KERAS_BACKEND
TENSORFLOW := $(filter tensorflow,$(BACKEND))
VENV := .venv$(if $(TENSORFLOW),,-$(BACKEND))
REQUIREMENTS := requirements$(if $(TENSORFLOW),,-$(BACKEND)).txt
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed$(if $(GPU),-gpu)
# under JAX and PyTorch, the tests that CI runs there (the full suite is TensorFlow's)
TESTS := $(if $(TENSORFLOW),,-m backends)

.PHONY: ann cnn transfer ann-theory cnn-theory test bench notebooks site test-site lint format venv clean \
	lock newest

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) pyproject.toml tools/make_venv.sh
	@sh tools/make_venv.sh $(VENV) $@

ann: $(STAMP)
	$(PY) 1_artificial_neural_networks/ann.py $(ARGS)

cnn: $(STAMP)
	$(PY) 2_convolutional_neural_networks/cnn.py $(ARGS)

transfer: $(STAMP)
	$(PY) 2_convolutional_neural_networks/transfer_learning.py $(ARGS)

ann-theory: $(STAMP)
	$(PY) 1_artificial_neural_networks/how_ann_learns.py $(ARGS)

cnn-theory: $(STAMP)
	$(PY) 2_convolutional_neural_networks/how_cnn_sees.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(TESTS) $(ARGS)

bench: $(STAMP)  # TensorFlow's .venv runs them; bench_backends also uses .venv-jax and .venv-torch
	$(PY) benchmarks/bench_ann.py --tune --seeds 5
	$(PY) benchmarks/bench_ann.py --intervals
	$(PY) benchmarks/bench_tables.py --large
	$(PY) benchmarks/bench_cnn.py --seeds 5 --improved
	$(PY) benchmarks/bench_pretrained.py
	$(PY) benchmarks/bench_label_issues.py
	$(MAKE) venv BACKEND=jax && $(MAKE) venv BACKEND=torch
	$(PY) benchmarks/bench_startup.py
	$(PY) benchmarks/bench_backends.py --seeds 5 --torch-seeds 5 --cnn-epochs 25:25:25
	$(PY) benchmarks/bench_backends.py --plain
	$(PY) benchmarks/bench_backends.py --chapter pretrained --fine-tune-epochs 1

# The .py scripts stay the source: these notebooks are written from them (and ignored by git).
notebooks: $(STAMP)
	mkdir -p notebooks
	$(PY) -m jupytext --to notebook --output notebooks/ann.ipynb 1_artificial_neural_networks/ann.py
	$(PY) -m jupytext --to notebook --output notebooks/cnn.ipynb 2_convolutional_neural_networks/cnn.py
	$(PY) -m jupytext --to notebook --output notebooks/how_ann_learns.ipynb \
		1_artificial_neural_networks/how_ann_learns.py
	$(PY) -m jupytext --to notebook --output notebooks/how_cnn_sees.ipynb \
		2_convolutional_neural_networks/how_cnn_sees.py
	$(PY) -m jupytext --to notebook --output notebooks/transfer_learning.ipynb \
		2_convolutional_neural_networks/transfer_learning.py

# Sphinx and its extensions on top of the backend's virtualenv (requirements-site.txt)
SITE_STAMP := $(VENV)/.installed-site
$(SITE_STAMP): requirements-site.txt $(STAMP)
	$(PY) -m uv pip install --quiet --compile-bytecode --python $(PY) -r requirements-site.txt
	touch $@

site: $(SITE_STAMP)
	$(PY) tools/site/build_site.py $(ARGS)

# the site's tests in a real browser (Debian's chromium: apt-get install chromium)
test-site: site
	$(PY) -m pytest -n 0 -m site tests/test_site.py

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# the locks, from the ranges (tools/lock.sh says how and why so)
lock:
	sh tools/lock.sh

newest:
	python3 tools/newest.py $(ARGS)

clean:
	rm -rf .venv .venv-jax .venv-torch .venv-lock .pytest_cache .hypothesis
