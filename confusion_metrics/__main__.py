"""``python -m confusion_metrics compare RUN_A RUN_B``: see :mod:`confusion_metrics.compare`."""

import sys

from confusion_metrics.compare import main

sys.exit(main())
