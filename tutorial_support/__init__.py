"""Machinery shared by ann.py and cnn.py, so the scripts can stay about deep learning.

- ``runtime``: quiet TensorFlow start-up, the "what am I training on" line, seeding.
- ``cli``: the flags both scripts share and the one-line error for bad input.
- ``data``: where the data sets live (a folder you point at, or a verified download).
- ``outputs``: writing results so that a failed run never leaves half-written files.
- ``churn``: reading, checking and encoding the bank churn table (ann.py).
- ``fold_training``: cross-validation folds trained together as one compiled model, and
  ``KerasBinaryClassifier``, the scikit-learn wrapper (ann.py).
- ``images``: the cats-and-dogs image pipeline with its decoded-image cache (cnn.py).
- ``augmentation``: ImageDataGenerator's shear, zoom and flip as one Keras layer (cnn.py).
- ``explain``: Grad-CAM and the most confident mistakes, drawn (cnn.py).
- ``distributed``: training across machines with MultiWorkerMirroredStrategy (cnn.py).
- ``figures``: the training-curves and importance figures the scripts save.
"""


def __getattr__(name: str):
    # `from tutorial_support import KerasBinaryClassifier`, imported on first use so that
    # the light modules (cli, data, outputs) can be imported without loading TensorFlow.
    if name == "KerasBinaryClassifier":
        from tutorial_support.fold_training import KerasBinaryClassifier

        return KerasBinaryClassifier
    raise AttributeError(f"module 'tutorial_support' has no attribute {name!r}")
