"""backends/patches.py (jax_patches.py, torch_patches.py): each patched Keras operation gives what
the unpatched one gives."""

import functools

import numpy as np
import pytest

from tutorial_support.backends import startup
from tutorial_support.backends.choice import chosen
from tutorial_support.common.runtime import keras

pytestmark = pytest.mark.backends


JAX_PATCHES = ["jax nn.max_pool", "jax image.affine_transform", "jax nn.depthwise_conv"]
TORCH_PATCHES = [
    "torch nn.conv",
    "torch nn.max_pool",
    "torch nn.average_pool",
    "torch image.affine_transform",
    "torch Adam._parallel_update_step",
    "torch BaseConv.call",
]


def test_each_backend_gets_its_own_patches():
    expected = {"jax": JAX_PATCHES, "torch": TORCH_PATCHES}.get(chosen(), [])
    assert startup.PATCHES == expected


def test_pytorch_keeps_freed_memory_for_the_next_tensors():
    """glibc's malloc set to keep freed blocks: tensors of a few MB, made and freed as in a training
    step, come back without new pages (glibc's defaults: about 51,000 page faults here)."""
    import platform
    import resource

    if chosen() != "torch" or platform.libc_ver()[0] != "glibc":
        assert not startup.KEEPS_FREED_MEMORY
        pytest.skip("PyTorch's allocator setting, on Linux (make test BACKEND=torch)")
    import torch

    assert startup.KEEPS_FREED_MEMORY

    def step():
        first, second = torch.ones(1 << 20), torch.ones(3 << 20)  # 4 MB, 12 MB
        third = first + 1
        del first
        return float(second.sum() + third.sum() + torch.ones(5 << 19).sum())  # 10 MB

    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 15_000


def test_xla_computes_with_ynnpack_unless_the_learner_says_otherwise(monkeypatch):
    """Under JAX (jaxlib 0.10), XLA_FLAGS names YNNPACK before JAX starts; a learner's own
    setting of it is kept, and the other backends are left alone."""
    import os

    assert startup.XLA_USES_YNNPACK == (chosen() == "jax")
    assert (startup.YNNPACK_DOTS in os.environ.get("XLA_FLAGS", "")) == (chosen() == "jax")
    own = "--xla_cpu_experimental_ynn_fusion_type=eltwise"
    monkeypatch.setenv("XLA_FLAGS", own)
    assert not startup._xla_cpu_uses_ynnpack()
    assert os.environ["XLA_FLAGS"] == own
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    if chosen() == "jax":
        assert startup._xla_cpu_uses_ynnpack()
        assert os.environ["XLA_FLAGS"].split() == [
            "--xla_cpu_enable_fast_math=false",
            startup.YNNPACK_DOTS,
        ]


@pytest.mark.skipif(chosen() != "jax", reason="the patch is JAX's (make test BACKEND=jax)")
@pytest.mark.parametrize(
    "shape, pool, strides, padding",
    [
        ((4, 12, 12, 3), 2, None, "valid"),  # the course's pools
        ((4, 13, 11, 5), 2, 2, "valid"),  # odd sides: the last row and column are dropped
        ((2, 9, 9, 2), (3, 3), (3, 3), "valid"),
        ((2, 8, 8, 2), 2, 1, "valid"),  # overlapping windows: Keras' own operation
        ((2, 7, 7, 2), 2, 2, "same"),  # padded: Keras' own operation
    ],
)
def test_max_pool_and_its_gradient_are_keras_own(shape, pool, strides, padding):
    import jax
    from keras.src.backend.jax import nn

    original = nn.max_pool.__wrapped__
    # after a ReLU, as in the networks: zeros, and distinct positive values
    x = np.maximum(np.random.default_rng(0).normal(size=shape), 0).astype("float32")

    # Keras' own function fails on strides=None when called directly (it converts the pool size
    # twice); its ops pass the strides
    given = pool if strides is None else strides

    def total(pooling):
        return lambda v: (pooling(v, pool, given, padding) ** 2).sum()

    np.testing.assert_array_equal(
        np.asarray(nn.max_pool(x, pool, strides, padding)),
        np.asarray(original(x, pool, given, padding)),
    )
    patched_gradient = np.asarray(jax.grad(total(nn.max_pool))(x))
    np.testing.assert_array_equal(patched_gradient, np.asarray(jax.grad(total(original))(x)))
    assert np.abs(patched_gradient).sum() > 0


@pytest.mark.skipif(chosen() != "jax", reason="the patch is JAX's (make test BACKEND=jax)")
def test_the_layer_goes_through_the_patched_function(monkeypatch):
    from keras.src.backend.jax import nn

    patched, calls = nn.max_pool, []

    def spy(*args, **kwargs):
        calls.append(args[1:])
        return patched(*args, **kwargs)

    monkeypatch.setattr(nn, "max_pool", spy)
    x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    pooled = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(2)(x))
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[5, 7], [13, 15]])
    assert calls and patched.__wrapped__ is not patched


# PyTorch (backends/torch_patches.py)

only_torch = pytest.mark.skipif(
    chosen() != "torch", reason="the patch is PyTorch's (make test BACKEND=torch)"
)


def torch_values_and_gradients(function, *arrays, **options):
    """function(*arrays, **options), and the gradients of a weighted sum of it."""
    import torch

    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = function(*tensors, **options)
    weights = torch.tensor(np.random.default_rng(9).normal(size=tuple(out.shape)), dtype=out.dtype)
    gradients = torch.autograd.grad((out * weights).sum(), tensors)
    return [out.detach().numpy()] + [g.numpy() for g in gradients]


def assert_close(patched, original):
    """Equal to float32's rounding: 1e-5 of each array's scale (a gradient can sum many terms)."""
    for p, o in zip(patched, original, strict=True):
        assert p.shape == o.shape
        np.testing.assert_allclose(p, o, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(o).max()))


@only_torch
@pytest.mark.parametrize(
    "shape, kernel, strides, padding, dilation",
    [
        ((4, 16, 16, 3), (3, 3, 3, 8), 1, "valid", 1),  # the course's first convolution
        ((2, 13, 11, 5), (3, 3, 5, 4), 2, "valid", 1),
        ((2, 12, 12, 4), (3, 3, 4, 6), 1, "same", 1),
        ((2, 12, 12, 4), (4, 4, 4, 6), 1, "same", 1),  # asymmetric padding: padded by Keras
        ((2, 12, 12, 4), (3, 3, 4, 6), 2, "same", 1),  # asymmetric too
        ((2, 15, 15, 2), (3, 3, 2, 3), 1, "valid", 2),
        ((2, 9, 9, 6), (3, 3, 2, 6), 1, "same", 1),  # grouped: 3 groups of 2 channels
        ((2, 10, 10), (3, 10, 4), 1, "valid", 1),  # 1-D: Keras' own operation
    ],
)
def test_torch_conv_and_its_gradients_are_keras_own(shape, kernel, strides, padding, dilation):
    from keras.src.backend.torch import nn

    rng = np.random.default_rng(1)
    x, k = rng.normal(size=shape).astype("float32"), rng.normal(size=kernel).astype("float32")
    options = dict(strides=strides, padding=padding, dilation_rate=dilation)
    assert_close(
        torch_values_and_gradients(nn.conv, x, k, **options),
        torch_values_and_gradients(nn.conv.__wrapped__, x, k, **options),
    )


@only_torch
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_torch_depthwise_and_separable_convolutions_are_keras_own(monkeypatch, data_format):
    from keras.src.backend.torch import nn

    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 10, 10) if data_format == "channels_first" else (2, 10, 10, 4))
    depthwise, pointwise = rng.normal(size=(3, 3, 4, 2)), rng.normal(size=(1, 1, 8, 5))
    x, depthwise, pointwise = (a.astype("float32") for a in (x, depthwise, pointwise))
    options = dict(strides=2, padding="same", data_format=data_format)
    patched = [
        torch_values_and_gradients(nn.depthwise_conv, x, depthwise, **options),
        torch_values_and_gradients(nn.separable_conv, x, depthwise, pointwise, **options),
    ]
    monkeypatch.setattr(nn, "conv", nn.conv.__wrapped__)  # both go through Keras' conv
    original = [
        torch_values_and_gradients(nn.depthwise_conv, x, depthwise, **options),
        torch_values_and_gradients(nn.separable_conv, x, depthwise, pointwise, **options),
    ]
    for p, o in zip(patched, original):
        assert_close(p, o)


@only_torch
@pytest.mark.parametrize("operation", ["max_pool", "average_pool"])
@pytest.mark.parametrize(
    "shape, pool, strides, padding, data_format",
    [
        ((4, 12, 12, 3), 2, None, "valid", None),  # the course's pools
        ((4, 13, 11, 5), 2, 2, "valid", None),  # odd sides
        ((2, 9, 9, 2), (3, 2), (2, 1), "valid", None),  # overlapping windows
        ((2, 7, 7, 2), 2, 2, "same", None),
        ((2, 8, 8, 2), 3, 2, "same", None),  # asymmetric padding: padded by Keras
        ((2, 3, 8, 8), 2, 2, "valid", "channels_first"),  # Keras' own operation
        ((2, 9, 3), 2, 2, "valid", None),  # 1-D: Keras' own operation
    ],
)
def test_torch_pooling_and_its_gradient_are_keras_own(
    operation, shape, pool, strides, padding, data_format
):
    from keras.src.backend.torch import nn

    patched = getattr(nn, operation)
    x = np.random.default_rng(3).normal(size=shape).astype("float32")  # no ties
    options = dict(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    assert_close(
        torch_values_and_gradients(patched, x, **options),
        torch_values_and_gradients(patched.__wrapped__, x, **options),
    )


def layer_transforms(batch, height, width, shear_degrees, rng):
    """Transforms drawn as cnn/augmentation.py draws them (shear, zoom, flip)."""
    shear = rng.uniform(-1, 1, batch) * np.radians(shear_degrees)
    zoom_x, zoom_y = rng.uniform(0.8, 1.2, (2, batch))
    flip = np.where(rng.uniform(0, 1, batch) < 0.5, -1.0, 1.0)
    m00, m01, m11 = flip * zoom_x, -flip * zoom_x * np.sin(shear), zoom_y * np.cos(shear)
    cx, cy, zeros = (width - 1) / 2, (height - 1) / 2, np.zeros(batch)
    columns = [m00, m01, cx - m00 * cx - m01 * cy, zeros, m11, cy - m11 * cy, zeros, zeros]
    return np.stack(columns, axis=1).astype("float32")


def general_transforms(batch, rng):
    """Any affine transform: rotations, large scales, translations far out of the image."""
    rows = rng.normal(0, [1, 1, 20, 1, 1, 20], (batch, 6))
    return np.concatenate([rows, np.zeros((batch, 2))], axis=1).astype("float32")


only_patched_affine = pytest.mark.skipif(
    chosen() not in ("jax", "torch"),
    reason="JAX's and PyTorch's patch (make test BACKEND=jax or BACKEND=torch)",
)


def backend_image():
    """Keras' image operations of the backend that runs (keras.src.backend.jax.image, ...)."""
    import importlib

    return importlib.import_module(f"keras.src.backend.{chosen()}.image")


def values_and_gradients(function, *arrays, **options):
    """function(*arrays, **options), and the gradients of a weighted sum of it (JAX or PyTorch)."""
    if chosen() == "torch":
        return torch_values_and_gradients(function, *arrays, **options)
    import jax

    def values(*a):
        out, pullback = jax.vjp(lambda *b: function(*b, **options), *a)
        weights = np.random.default_rng(9).normal(size=out.shape).astype(out.dtype)
        return [out, *pullback(weights)]

    return [np.asarray(r) for r in compiled(values)(*arrays)]


def compiled(function):
    """Under JAX, ``function`` as one compiled call (run op by op, JAX compiles every op)."""
    if chosen() != "jax":
        return function
    import jax

    return jax.jit(function)


@only_patched_affine
@pytest.mark.parametrize("fill_mode", ["nearest", "constant"])
@pytest.mark.parametrize("kind", ["course", "strong", "general"])
def test_affine_transform_is_keras_own(kind, fill_mode):
    image = backend_image()
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (16, 24, 20, 3)).astype("float32")
    transforms = {
        "course": lambda: layer_transforms(16, 24, 20, 0.2, rng),
        "strong": lambda: layer_transforms(16, 24, 20, 10.0, rng),
        "general": lambda: general_transforms(16, rng),
    }[kind]()
    options = dict(interpolation="bilinear", fill_mode=fill_mode)

    def transformed(function):
        return values_and_gradients(
            lambda images: function(images, keras.ops.convert_to_tensor(transforms), **options), x
        )

    # float32 rounding of the sampling positions: Keras' own answer is itself about 5e-6 off
    # the exact one
    assert_close(
        transformed(image.affine_transform), transformed(image.affine_transform.__wrapped__)
    )


@only_patched_affine
@pytest.mark.parametrize(
    "case", ["unbatched", "channels_first", "projective", "reflect", "nearest_pixel", "fill_value"]
)
def test_affine_transform_elsewhere_gives_keras_own(case):
    image = backend_image()
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 255, (4, 12, 14, 3)).astype("float32")
    transforms = layer_transforms(4, 12, 14, 10.0, rng)
    options = dict(interpolation="bilinear", fill_mode="nearest", fill_value=0)
    if case == "unbatched":  # the fast path, one image
        x, transforms = x[0], transforms[0]
    elif case == "channels_first":  # the fast path, the other layout
        x, options["data_format"] = x.transpose(0, 3, 1, 2).copy(), "channels_first"
    elif case == "projective":  # c0, c1: Keras' own
        transforms[:, 6:] = rng.normal(0, 1e-3, (4, 2))
    elif case == "reflect":
        options["fill_mode"] = "reflect"
    elif case == "nearest_pixel":
        options["interpolation"] = "nearest"
    else:  # the fast path under JAX, Keras' own under PyTorch
        options.update(fill_mode="constant", fill_value=7.0)
    patched = compiled(lambda *a: image.affine_transform(*a, **options))(x, transforms.copy())
    original = compiled(lambda *a: image.affine_transform.__wrapped__(*a, **options))(
        x, transforms.copy()
    )
    assert tuple(patched.shape) == tuple(original.shape)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(patched),
        keras.ops.convert_to_numpy(original),
        rtol=1e-5,
        atol=255e-5,
    )


@only_patched_affine
def test_training_goes_through_the_patches(monkeypatch):
    import importlib

    nn = importlib.import_module(f"keras.src.backend.{chosen()}.nn")
    image = backend_image()

    from tutorial_support.cnn.augmentation import RandomShearZoomFlip

    calls = []

    def spy(module, name):
        patched = getattr(module, name)
        assert patched.__wrapped__ is not patched

        @functools.wraps(patched)  # Keras reads a layer's call's parameters
        def counted(*args, **kwargs):
            calls.append(name)
            return patched(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    operations = [(nn, "max_pool"), (image, "affine_transform")]
    if chosen() == "torch":  # JAX's convolution is XLA's own
        from keras.src.layers.convolutional import base_conv

        operations.append((base_conv.BaseConv, "call"))
    for module, name in operations:
        spy(module, name)
    model = keras.Sequential(
        [
            keras.Input(shape=(16, 16, 3)),
            RandomShearZoomFlip(seed=1),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32"), np.array([0, 1] * 4)
    loss = model.train_on_batch(x, y.astype("float32"))
    assert np.isfinite(loss)
    assert {name for _, name in operations} <= set(calls)


@only_torch
@pytest.mark.parametrize("case", ["course", "amsgrad", "schedule"])
def test_torch_adam_updates_as_keras_own(monkeypatch, case):
    """Ten steps of Keras' Adam, with and without the fused kernel: the same weights and slots."""
    import torch
    from keras.src.backend.torch.optimizers import torch_adam

    fused, calls = torch._fused_adam_, []
    monkeypatch.setattr(torch, "_fused_adam_", lambda *a, **k: calls.append(1) or fused(*a, **k))

    rng = np.random.default_rng(8)
    shapes = [(3, 3, 3, 8), (8,), (50, 4), (4,)]
    gradients = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(10)]
    learning_rate = {
        "course": 1e-3,
        "amsgrad": 1e-3,  # Keras' own update
        "schedule": keras.optimizers.schedules.ExponentialDecay(1e-2, 3, 0.5),
    }[case]

    def trained():
        variables = [keras.Variable(np.ones(s, "float32")) for s in shapes]
        optimizer = keras.optimizers.Adam(learning_rate, amsgrad=case == "amsgrad")
        for step in gradients:
            optimizer.apply([keras.ops.convert_to_tensor(g) for g in step], variables)
        slots = optimizer._momentums + optimizer._velocities
        return [keras.ops.convert_to_numpy(v) for v in variables + slots]

    patched = trained()
    assert len(calls) == (0 if case == "amsgrad" else 10)
    update = torch_adam.Adam._parallel_update_step
    monkeypatch.setattr(torch_adam.Adam, "_parallel_update_step", update.__wrapped__)
    original = trained()
    assert_close(patched, original)
    assert not np.allclose(patched[0], 1.0)  # it moved


@only_torch
@pytest.mark.parametrize(
    "options, folded",
    [
        (dict(filters=8, kernel_size=3, activation="relu"), True),  # the course's
        (dict(filters=4, kernel_size=(3, 2), strides=2), True),
        (dict(filters=4, kernel_size=3, dilation_rate=2, activation="sigmoid"), True),
        (dict(filters=4, kernel_size=3, padding="same"), False),  # Keras' own call
        (dict(filters=6, kernel_size=3, groups=3), False),
        (dict(filters=4, kernel_size=3, use_bias=False), False),
    ],
    ids=["course", "strided", "dilated", "same", "grouped", "no_bias"],
)
def test_torch_conv_layer_with_its_bias_is_keras_own(monkeypatch, options, folded):
    """A Conv2D's output and its gradients (inputs, kernel, bias), with the patched call and Keras'
    own, on the same weights; the bias goes into PyTorch's convolution where the patch applies."""
    import torch
    from keras.src.layers.convolutional import base_conv

    layer = keras.layers.Conv2D(**options, bias_initializer="random_normal")
    x = np.random.default_rng(10).normal(size=(2, 13, 12, 6)).astype("float32")
    layer.build(x.shape)
    conv2d, biases = torch.nn.functional.conv2d, []

    def spy(inputs, weight, bias=None, *args, **kwargs):
        biases.append(bias is not None)
        return conv2d(inputs, weight, bias, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "conv2d", spy)

    def outputs_and_gradients():
        inputs = torch.tensor(x, requires_grad=True)
        out = layer(inputs)
        weights = torch.tensor(np.random.default_rng(11).normal(size=tuple(out.shape)))
        variables = [inputs] + [v.value for v in layer.trainable_variables]
        gradients = torch.autograd.grad((out * weights.to(out.dtype)).sum(), variables)
        return [out.detach().numpy()] + [g.numpy() for g in gradients]

    patched = outputs_and_gradients()
    assert biases == [folded]
    monkeypatch.setattr(base_conv.BaseConv, "call", base_conv.BaseConv.call.__wrapped__)
    assert_close(patched, outputs_and_gradients())


# JAX's depthwise convolution (backends/jax_patches.py)

only_jax = pytest.mark.skipif(
    chosen() != "jax", reason="the patch is JAX's (make test BACKEND=jax)"
)


def lax_convolutions(function, *arrays) -> int:
    """How many of XLA's convolutions ``function(*arrays)`` and its gradients are made of."""
    import jax

    def gradients(*a):
        out, pullback = jax.vjp(function, *a)
        return out, pullback(out)

    return str(jax.make_jaxpr(gradients)(*arrays)).count("conv_general_dilated")


@only_jax
@pytest.mark.parametrize(
    "shape, kernel, strides, padding",
    [
        ((2, 12, 12, 8, 1), 3, 1, "same"),  # the base's stride-1 layers
        ((2, 13, 13, 8, 1), 3, 2, "valid"),  # its strided ones, after their ZeroPadding2D
        ((2, 11, 11, 6, 1), 5, 1, "same"),
        ((2, 15, 15, 6, 1), 5, 2, "valid"),
        ((2, 12, 11, 4, 1), 3, 2, "same"),  # odd padding: the extra zero after
        ((2, 12, 12, 4, 1), 5, 2, "same"),
        ((2, 10, 9, 3, 2), (3, 2), (2, 1), "valid"),  # a depth multiplier, rectangles
        ((2, 9, 9, 3, 3), 3, 1, "same"),
    ],
)
def test_depthwise_conv_and_its_gradients_are_keras_own(shape, kernel, strides, padding):
    from keras.src.backend.jax import nn

    *shape, multiplier = shape
    size = (kernel, kernel) if isinstance(kernel, int) else kernel
    rng = np.random.default_rng(12)
    x = rng.normal(size=shape).astype("float32")
    k = rng.normal(size=(*size, shape[-1], multiplier)).astype("float32")
    options = dict(strides=strides, padding=padding)
    patched = values_and_gradients(nn.depthwise_conv, x, k, **options)
    assert_close(patched, values_and_gradients(nn.depthwise_conv.__wrapped__, x, k, **options))
    # the shifted products, forward and backward, and no convolution of XLA's
    assert lax_convolutions(lambda *a: nn.depthwise_conv(*a, **options), x, k) == 0


@only_jax
@pytest.mark.parametrize(
    "case", ["channels_first", "dilated", "one_dimensional", "float16", "no_output"]
)
def test_depthwise_conv_elsewhere_is_keras_own(case):
    from keras.src.backend.jax import nn

    rng = np.random.default_rng(13)
    dtype = "float16" if case == "float16" else "float32"  # the fast path: float32
    x, k = rng.normal(size=(2, 9, 9, 4)).astype(dtype), rng.normal(size=(3, 3, 4, 1)).astype(dtype)
    options = dict(strides=1, padding="valid")
    if case == "channels_first":
        x, options["data_format"] = x.transpose(0, 3, 1, 2), "channels_first"
    elif case == "dilated":
        options["dilation_rate"] = 2
    elif case == "one_dimensional":
        x, k = x[:, 0], k[0]
    elif case == "no_output":  # a 2 x 2 map under a 3 x 3 kernel
        x = x[:, :2, :2]

    def patched(*a):
        return nn.depthwise_conv(*a, **options)

    def original(*a):
        return nn.depthwise_conv.__wrapped__(*a, **options)

    np.testing.assert_array_equal(
        np.asarray(compiled(patched)(x, k)), np.asarray(compiled(original)(x, k))
    )
    assert lax_convolutions(patched, x, k) == lax_convolutions(original, x, k) > 0


@only_jax
def test_depthwise_layer_and_its_weights_gradients_are_keras_own(monkeypatch):
    """A DepthwiseConv2D (strided, "same", depth multiplier 2, a bias) through the patched
    function and through Keras' own: its output and the gradients of the input, kernel and bias."""
    import jax
    from keras.src.backend.jax import nn

    layer = keras.layers.DepthwiseConv2D(
        3, strides=2, padding="same", depth_multiplier=2, bias_initializer="random_normal"
    )
    x = np.random.default_rng(14).normal(size=(2, 10, 10, 3)).astype("float32")
    layer.build(x.shape)
    variables = [v.value for v in layer.trainable_variables]

    def outputs_and_gradients():
        def values(x, variables):
            out, pullback = jax.vjp(
                lambda *a: layer.stateless_call(a[1], [], a[0])[0], x, variables
            )
            weights = np.random.default_rng(15).normal(size=out.shape).astype(out.dtype)
            return [out, *jax.tree_util.tree_leaves(pullback(weights))]

        return [np.asarray(a) for a in jax.jit(values)(x, variables)]

    patched = outputs_and_gradients()
    monkeypatch.setattr(nn, "depthwise_conv", nn.depthwise_conv.__wrapped__)
    original = outputs_and_gradients()
    assert len(patched) == 4  # output, input, kernel, bias
    assert_close(patched, original)
