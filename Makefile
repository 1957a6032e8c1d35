# The tutorial's commands. Each creates .venv from requirements.txt on first use.
#   make ann      train and evaluate the churn ANN (1_artificial_neural_networks/ann.py)
#   make cnn      train and evaluate the cats-vs-dogs CNN (2_convolutional_neural_networks/cnn.py)
#   make test     run the test suite
#   make bench    run the benchmarks: they print their figures and write docs/measurements.md,
#                 the file the README quotes (well over an hour on a 2-core CPU: see that file)
#   make notebooks  write notebooks/ann.ipynb and notebooks/cnn.ipynb from the scripts (jupytext)
#   make lint     check the code's format and lint it (ruff; make format rewrites it)
# Options: ARGS="--epochs 10" passes flags to a script; GPU=1 installs TensorFlow's
# NVIDIA GPU build (Linux); DLP_DATA_DIR=folder uses a local copy of the data;
# PYTHON=/path/to/python3.13 chooses the Python (otherwise tools/make_venv.sh finds one
# that TensorFlow 2.21 supports, 3.10 to 3.13, or fetches one with uv).

PYTHON ?=
export PYTHON GPU
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed$(if $(GPU),-gpu)

.PHONY: ann cnn test bench notebooks lint format venv clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/make_venv.sh
	@sh tools/make_venv.sh $(VENV) $@

ann: $(STAMP)
	$(PY) 1_artificial_neural_networks/ann.py $(ARGS)

cnn: $(STAMP)
	$(PY) 2_convolutional_neural_networks/cnn.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_ann.py --tune --seeds 5
	$(PY) benchmarks/bench_tables.py --large
	$(PY) benchmarks/bench_cnn.py --seeds 5 --improved

# The .py scripts stay the source: these notebooks are written from them (and ignored by git).
notebooks: $(STAMP)
	mkdir -p notebooks
	$(PY) -m jupytext --to notebook --output notebooks/ann.ipynb 1_artificial_neural_networks/ann.py
	$(PY) -m jupytext --to notebook --output notebooks/cnn.ipynb 2_convolutional_neural_networks/cnn.py

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
