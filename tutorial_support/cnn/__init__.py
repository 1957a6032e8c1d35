"""Chapter 2's helpers (cnn.py): photos, augmentation, the machines, Grad-CAM, predictions."""
