import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets, read through DLP_DATA_DIR exactly as a reader would point at them."""
    folder = os.environ.get("DLP_DATA_DIR")
    if not folder or not (Path(folder) / "Churn_Modelling.csv").is_file():
        pytest.skip("set DLP_DATA_DIR to the folder holding the data sets (CI does)")
    return Path(folder).resolve()
