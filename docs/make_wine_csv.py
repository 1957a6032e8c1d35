"""Save scikit-learn's wine data as a CSV, the table of the README's "Your own table" section.

    python docs/make_wine_csv.py wine.csv
    python 1_artificial_neural_networks/ann.py --data wine.csv --target cultivar

The wine data (UCI, Forina et al.): 178 wines from three cultivars of one Italian region, 13
chemical measurements each. scikit-learn ships it, so no download is needed. The cultivar is
written as text (class_0, class_1, class_2), as a table of one's own would have it.
"""

import sys
from pathlib import Path

from sklearn.datasets import load_wine

wine = load_wine(as_frame=True)
table = wine.frame.rename(columns={"target": "cultivar"})
table["cultivar"] = [wine.target_names[k] for k in wine.target]
out = Path(sys.argv[1] if len(sys.argv) > 1 else "wine.csv")
table.to_csv(out, index=False)
print(f"wrote {out}: {len(table)} wines, {table.shape[1] - 1} measurements and the cultivar")
