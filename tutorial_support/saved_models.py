"""Answering from a model a previous run saved, without training: ann.py --predict-only, cnn.py --predict."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from tutorial_support import augmentation  # noqa: F401  (registers RandomShearZoomFlip, so saved CNNs load)
from tutorial_support import churn, explain, figures, images, reports, tables
from tutorial_support.errors import TutorialError
from tutorial_support.outputs import StagedOutputs
from tutorial_support.runtime import keras
from tutorial_support.stacked_training import predict_probabilities

ANN_MODEL, ANN_IMPROVED_MODEL, ANN_PREPROCESSING = "churn_ann.keras", "churn_ann_improved.keras", "preprocessing.joblib"
CNN_MODEL = "cnn_model.keras"


def predict_customer(model, preprocessing, customer: pd.DataFrame, class_names: list[str], course: bool) -> dict:
    """Step 8: the customer's readable fields through the fitted encoder and scaler, then the network."""
    probabilities = predict_probabilities(model, preprocessing.transform(customer))[0]
    return reports.customer_verdict(customer, probabilities, class_names, course)


def predict_customer_from_saved(output_dir: Path, text: str) -> dict:
    """ann.py --predict-only: step 8 with the model, preprocessing and table description saved in ``output_dir``."""
    model_path, preprocessing_path = output_dir / ANN_MODEL, output_dir / ANN_PREPROCESSING
    metrics_path = output_dir / "metrics.json"
    if not (model_path.is_file() and preprocessing_path.is_file() and metrics_path.is_file()):
        raise TutorialError(f"no saved model in {output_dir}: run ann.py once without --predict-only")
    about = json.loads(metrics_path.read_text()).get("data", {"course_table": True, "classes": ["0", "1"]})
    if about["course_table"]:
        customer = churn.parse_customer(text)  # the course's example customer, with the fields --customer sets
    else:  # fields left out: the typical values of the training rows the model learnt from
        customer, _ = tables.parse_row(text, about["typical"], about["columns"]["numbers"])
    reports.section("Step 8: predict a single new customer (saved model)")
    model = keras.models.load_model(model_path, compile=False)  # predicting needs no optimizer
    return predict_customer(model, joblib.load(preprocessing_path), customer, about["classes"], about["course_table"])


def predict_images_from_saved(args: argparse.Namespace) -> None:
    """cnn.py --predict: classify image files with the model saved in --output-dir (and --explain them)."""
    model_path, metrics_path = args.output_dir / CNN_MODEL, args.output_dir / "metrics.json"
    if not (model_path.is_file() and metrics_path.is_file()):
        model = " --model improved" if args.model == "improved" else ""
        raise TutorialError(f"no saved model in {args.output_dir}: run cnn.py{model} once without --predict")
    saved = json.loads(metrics_path.read_text())
    class_names, size = saved["test"]["class_names"], saved["config"]["image_size"]
    batch = []
    for path in args.predict:
        if not path.is_file():
            raise TutorialError(f"--predict: no such file: {path}")
        try:
            batch.append(images.decode_image(path, size))
        except ValueError as error:
            raise TutorialError(f"--predict: {path} is not a readable image ({error})") from None
    model = keras.models.load_model(model_path, compile=False)  # predicting needs no optimizer
    pixels = np.stack(batch)
    probabilities = reports.class_probabilities(model.predict(pixels.astype("float32"), verbose=0))
    for path, row in zip(args.predict, probabilities):
        print(f"{path}: {reports.verdict(row, class_names)}")
    if args.explain:  # Grad-CAM: where the network looked for the class it chose
        heatmaps = explain.gradcam(model, pixels)
        with StagedOutputs(args.output_dir) as outputs:
            for path, image, heat, row in zip(args.predict, pixels, heatmaps, probabilities):
                figure = figures.heatmap_figure([image], [heat], [reports.verdict(row, class_names)], path.name, columns=1)
                outputs.save_figure(f"gradcam_{path.stem}.png", figure)
        for path in args.predict:
            print(f"wrote {args.output_dir / f'gradcam_{path.stem}.png'}")
