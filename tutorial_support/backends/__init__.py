"""What Keras does not abstract, once per backend: TensorFlow, JAX and PyTorch (see the map)."""
