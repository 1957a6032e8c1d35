import os
from pathlib import Path

# scikit-learn's estimator checks include one that runs with array-API dispatch on (the
# KerasBinaryClassifier checks in test_sklearn_wrapper.py); SciPy reads this switch once, when
# it is first imported, so it is set here, before any test module imports scikit-learn.
# The scripts the tests start run without it, as a reader runs them (script_environment).
_SET_HERE = "SCIPY_ARRAY_API" not in os.environ
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def script_environment(extra: dict | None = None) -> dict:
    """The environment for a script a test starts: this one, with ``extra`` on top."""
    environment = {**os.environ, **(extra or {})}
    if _SET_HERE:
        environment.pop("SCIPY_ARRAY_API", None)
    # Under pytest a Jupyter kernel stops showing what C++ code writes to stderr in the cell
    # outputs (ipykernel checks this variable); a reader's kernel shows it, so the tests must too.
    environment.pop("PYTEST_CURRENT_TEST", None)
    return environment


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets, read through DLP_DATA_DIR exactly as a reader would point at them."""
    folder = os.environ.get("DLP_DATA_DIR")
    if not folder or not (Path(folder) / "Churn_Modelling.csv").is_file():
        pytest.skip("set DLP_DATA_DIR to the folder holding the data sets (CI does)")
    return Path(folder).resolve()
