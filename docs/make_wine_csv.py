"""Save scikit-learn's wine data as a CSV, the table of the README's "Your own table" section.

    python docs/make_wine_csv.py wine.csv
    python 1_artificial_neural_networks/ann.py --data wine.csv --target cultivar

The wine data (UCI, Forina et al.): 178 wines from three cultivars of one Italian region, 13
chemical measurements each. scikit-learn ships it, so no download is needed. The cultivar is
written as text (class_0, class_1, class_2), as a table of one's own would have it.
"""

import os
import sys
import tempfile
from pathlib import Path

from sklearn.datasets import load_wine

wine = load_wine(as_frame=True)
table = wine.frame.rename(columns={"target": "cultivar"})
table["cultivar"] = [wine.target_names[k] for k in wine.target]
out = Path(sys.argv[1] if len(sys.argv) > 1 else "wine.csv")
temporary = None
# written beside its final place and moved there whole, so a failure leaves no half-written file
try:
    handle, temporary = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(handle, "w", newline="") as stream:
        table.to_csv(stream, index=False)
    os.replace(temporary, out)
except OSError as error:
    if temporary is not None:
        Path(temporary).unlink(missing_ok=True)
    print(
        f"error: cannot write {out} ({error.strerror or error}): pass a file in a folder that "
        "exists",
        file=sys.stderr,
    )
    sys.exit(2)
print(f"wrote {out}: {len(table)} wines, {table.shape[1] - 1} measurements and the cultivar")
