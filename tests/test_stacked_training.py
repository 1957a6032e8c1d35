"""The stacked trainer trains each copy exactly as Keras alone would, and fits scikit-learn."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from churn_fixtures import learnable_problem
from tutorial_support.common.runtime import keras, seed_everything
from tutorial_support.fast.cross_validation import cross_validate
from tutorial_support.fast.sklearn_wrapper import KerasClassifier
from tutorial_support.fast.training import fit, fit_copies

pytestmark = pytest.mark.backends


def build_small(optimizer="adam", dropout=0.0, n_classes=2):
    """The tutorial's network shape (ann.py builds the same); a softmax for three classes or
    more."""
    layers = [keras.Input(shape=(11,))]
    for _ in range(2):
        layers.append(keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    if n_classes == 2:
        layers.append(keras.layers.Dense(1, activation="sigmoid", kernel_initializer="uniform"))
    else:
        layers.append(
            keras.layers.Dense(n_classes, activation="softmax", kernel_initializer="uniform")
        )
    model = keras.Sequential(layers)
    loss = "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


@pytest.mark.parametrize("optimizer, n_classes", [("adam", 2), ("rmsprop", 2), ("adam", 3)])
def test_each_copy_is_trained_exactly_like_plain_keras(optimizer, n_classes):
    """Copies on different rows (and a last, shorter batch) match Keras' train_on_batch (sigmoid
    and softmax)."""
    X, y = learnable_problem(150)
    if n_classes == 3:  # three classes from the same rows: a softmax and sparse cross-entropy
        y = y + (X[:, 0] > 0.5)
    rng = np.random.default_rng(1)
    # 97 rows: last batch of 7
    train_sets = [np.sort(rng.choice(150, 97, replace=False)) for _ in range(2)]
    epochs, batch_size, seed = 2, 10, 5
    trained = fit_copies(
        build_small,
        X,
        y,
        train_sets,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        build_args={"optimizer": optimizer, "n_classes": n_classes},
    )
    models = [model for model, _, _ in trained]

    shuffle = np.random.default_rng(seed)
    orders = [shuffle.permutation(97) for _ in range(epochs)]  # the trainer's row orders
    for rows, trained in zip(train_sets, models):
        seed_everything(seed)
        # same seed: same initial weights
        reference = build_small(optimizer=optimizer, n_classes=n_classes)
        for order in orders:
            for start in range(0, 97, batch_size):
                batch = rows[order[start : start + batch_size]]
                reference.train_on_batch(X[batch], y[batch])
        for ours, keras_own in zip(trained.get_weights(), reference.get_weights()):
            np.testing.assert_allclose(ours, keras_own, rtol=2e-4, atol=2e-6)
    # the copies really were trained on different data
    assert not np.allclose(models[0].get_weights()[0], models[1].get_weights()[0])


def test_cross_validate_equals_cross_val_score_with_the_wrapper():
    X, y = learnable_problem(203)  # folds of unequal size: several stacked groups
    cv = StratifiedKFold(n_splits=4)
    ours = cross_validate(build_small, X, y, cv, epochs=4, batch_size=16, seed=3)
    sklearn = cross_val_score(
        KerasClassifier(build_small, epochs=4, batch_size=16, random_state=3), X, y, cv=cv
    )
    np.testing.assert_allclose(ours, sklearn, atol=1e-9)
    assert ours.mean() > 0.6  # it learnt something


def test_wrapper_clones_and_grid_searches():
    X, y = learnable_problem(120)
    estimator = KerasClassifier(
        build_small, epochs=3, batch_size=20, optimizer="rmsprop", random_state=2
    )
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert copy is not estimator and not hasattr(copy, "model_")

    grid = {"batch_size": [20], "optimizer": ["adam", "rmsprop"], "epochs": [2]}
    cv = StratifiedKFold(n_splits=2)
    search = GridSearchCV(
        KerasClassifier(build_small, random_state=2), grid, cv=cv, scoring="accuracy"
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    for params, mean in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        scores = cross_validate(
            build_small,
            X,
            y,
            cv,
            epochs=params["epochs"],
            batch_size=params["batch_size"],
            seed=2,
            build_args={"optimizer": params["optimizer"]},
        )
        assert mean == pytest.approx(scores.mean(), abs=1e-9), params
    assert search.best_estimator_.predict(X).shape == (120,)
    probabilities = search.best_estimator_.predict_proba(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_wrapper_refuses_a_network_whose_output_does_not_fit_the_classes():
    X, _ = learnable_problem(30)
    with pytest.raises(
        ValueError, match="y has 3 classes, so the network's last layer needs 3 units"
    ):
        KerasClassifier(lambda: build_small(), epochs=1).fit(X, np.arange(30) % 3)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        KerasClassifier(build_small, epochs=1).fit(X, np.linspace(0, 1, 30))


def test_same_seed_same_result_and_dropout_trains():
    X, y = learnable_problem(100)
    cv = StratifiedKFold(n_splits=2)
    first = cross_validate(
        build_small, X, y, cv, epochs=2, batch_size=10, seed=7, build_args={"dropout": 0.1}
    )
    again = cross_validate(
        build_small, X, y, cv, epochs=2, batch_size=10, seed=7, build_args={"dropout": 0.1}
    )
    np.testing.assert_array_equal(first, again)


def test_fit_trains_a_compiled_model_in_place():
    X, y = learnable_problem(130)
    seed_everything(4)
    model = build_small()
    before = [w.copy() for w in model.get_weights()]
    history = fit(model, X, y, batch_size=10, epochs=3, verbose=0, seed=4)
    assert set(history) == {"loss", "accuracy"} and len(history["loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert all(0 <= a <= 1 for a in history["accuracy"])
    assert not np.allclose(before[0], model.get_weights()[0])
    # the same training as one copy of fit_copies with the same seed
    ((copy, _, _),) = fit_copies(
        build_small, X, y, [np.arange(130)], epochs=3, batch_size=10, seed=4
    )
    for ours, theirs in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_a_kept_twin_trains_exactly_as_a_new_one():
    """The stacked twin kept from one training (twins.py) is set afresh for the next training of
    the same network: the same weights and histories as a new twin gives, dropout's seeds and the
    optimizer's state included, on the same rows or on more. Under TensorFlow and JAX it is the
    same twin (nothing compiled again, or for TensorFlow's graph traced again); under PyTorch,
    which compiles nothing, none is kept."""
    from tutorial_support.backends.epochs import compiles
    from tutorial_support.fast import twins

    X, y = learnable_problem(100)

    def trained(rows):
        dropout = {"optimizer": "adam", "dropout": 0.2}
        train_sets = [np.arange(rows), np.arange(100 - rows, 100)]
        copies = fit_copies(
            build_small, X, y, train_sets, epochs=2, batch_size=10, seed=3, build_args=dropout
        )
        return [(model.get_weights(), history) for model, history, _ in copies]

    def assert_same(ours, theirs):
        for (weights, history), (weights_again, history_again) in zip(ours, theirs):
            assert history == history_again
            for a, b in zip(weights, weights_again):
                np.testing.assert_array_equal(a, b)

    twins._KEPT.clear()
    new = trained(80)
    kept = [stacked for stacked, *_ in twins._KEPT.values()]
    assert len(kept) == (1 if compiles() else 0)
    assert_same(trained(80), new)
    more = trained(90)  # another number of steps: TensorFlow's graph now takes any
    assert [stacked for stacked, *_ in twins._KEPT.values()] == kept  # the same twin, reused
    twins._KEPT.clear()
    assert_same(trained(80), new)  # new twins: the same again
    twins._KEPT.clear()
    assert_same(trained(90), more)
