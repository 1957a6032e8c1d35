"""Machinery shared by ann.py and cnn.py, so the scripts can stay about deep learning.

Both scripts:
- ``runtime``: quiet TensorFlow start-up, the device line, precision, seeding, timing.
- ``cli``: the flags both scripts share and the settings cell; ``ann_flags``, ``cnn_flags``: each script's own.
- ``errors``: ``TutorialError``, the one-line error for bad input (exit status 2).
- ``data``: where the data sets live (a folder you point at, or a verified download).
- ``outputs``: writing results so that a failed run never leaves half-written files.
- ``reports``: what the scripts print (decisions, cross-validation scores, verdicts).
- ``figures``: training curves, feature importance, Grad-CAM and mistakes galleries.
- ``saved_models``: answering from a saved model (``--predict-only``, ``--predict``).

Chapter 1 (ann.py):
- ``churn``: reading, checking and encoding the bank churn table.
- ``stacked_training``: many copies of a small network trained at once; ``fit`` and
  ``predict_probabilities``, the fast counterparts of ``model.fit`` and ``model.predict``.
- ``cross_validation``: cross-validation with every fold trained at once.
- ``sklearn_wrapper``: ``KerasClassifier``, a Keras network as a scikit-learn classifier.

Chapter 2 (cnn.py):
- ``images``: the image pipeline with its decoded-image cache.
- ``augmentation``: ImageDataGenerator's shear, zoom and flip as one Keras layer.
- ``explain``: Grad-CAM and the most confident mistakes.
- ``distributed``: distribution strategies, one machine's GPUs or several machines.
"""

import importlib.util as _util

# A Python without the tutorial's requirements (no virtualenv active, or requirements.txt not
# installed) stops here, at the first import, naming the missing package; the scripts turn
# that into one line. find_spec only looks for a package, it does not import it.
for _name in ("tensorflow", "keras", "sklearn", "pandas", "matplotlib", "PIL"):
    if _util.find_spec(_name) is None:
        raise ModuleNotFoundError(f"No module named {_name!r}", name=_name)


def __getattr__(name: str):
    # `from tutorial_support import KerasClassifier` (or its older name KerasBinaryClassifier),
    # imported on first use so that the light modules (cli, data, outputs) load without TensorFlow.
    if name in ("KerasClassifier", "KerasBinaryClassifier"):
        from tutorial_support import sklearn_wrapper

        return getattr(sklearn_wrapper, name)
    raise AttributeError(f"module 'tutorial_support' has no attribute {name!r}")
