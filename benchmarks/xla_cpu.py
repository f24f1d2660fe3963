"""Why XLA loses on the CPU: the same layers' forward + backward with and without XLA.

    python benchmarks/xla_cpu.py [--rounds 8]

Each case is one ``tf.function`` computing the gradient of mean(square(layer(x)))
with respect to the layer's weights, once plain (TensorFlow's kernels: oneDNN
convolutions on x86) and once with ``jit_compile=True`` (XLA:CPU's own
kernels). Timed with `benchmarks.speed.steps.interleave`: every call on its own
after tracing, all cases interleaved in rounds of 3 calls in a fresh order,
the plain discriminator also run as an A/A control (verdicts against its spread).
Cases: unigen's DCGAN generator and discriminator (28x28x1, batch 64, the
speed suite's widths), one strided convolution, one transposed convolution
and one dense layer of similar cost. Writes benchmarks/results/xla_cpu_layers.json.

    python benchmarks/xla_cpu.py --models [--rounds 8]

decomposes the speed suite's full-size models (``benchmarks.speed.configs``,
28x28x1, batch 64) instead: for the DCGAN, the VAE and Glow, the whole compiled
training step (``compile_for_fit`` with ``jit_compile`` False or True), and the
forward + backward (gradients with respect to the layer's input and weights) of
every convolution and dense layer of their networks on the input that layer sees
(Glow: the coupling network's three convolutions at both scales), each plain and
under XLA, in process CPU time; and, for each transposed convolution, how XLA
lowers it (its optimised HLO: ``lhs_dilate`` means a convolution over the input
dilated with zeros). Writes benchmarks/results/xla_cpu_models.json.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import tensorflow as tf

import unigen
from benchmarks import write_result
from benchmarks.speed import steps as timing


def _grad_fns(layer, x_shape):
    x = tf.random.stateless_normal(x_shape, seed=[1, 2])
    layer(x)

    def grads():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(x)))
        return tape.gradient(loss, layer.trainable_variables)

    return tf.function(grads), tf.function(grads, jit_compile=True)


def cases():
    gan = unigen.models.DCGAN(image_shape=(28, 28, 1), num_levels=256, latent_dim=64,
                              base_filters=32)
    return {
        "dcgan_generator": _grad_fns(gan.generator, (64, 64)),
        "dcgan_discriminator": _grad_fns(gan.discriminator, (64, 28, 28, 1)),
        "conv2d_4x4_stride2_64to128_14x14": _grad_fns(
            keras.layers.Conv2D(128, 4, strides=2, padding="same"), (64, 14, 14, 64)),
        "conv2dtranspose_4x4_stride2_128to64_7x7": _grad_fns(
            keras.layers.Conv2DTranspose(64, 4, strides=2, padding="same"), (64, 7, 7, 128)),
        "dense_1024x1024": _grad_fns(keras.layers.Dense(1024), (64, 1024)),
    }


def _layer_grad_fns(layer, x):
    """Plain and XLA ``tf.function`` s: forward + gradients w.r.t. input and weights."""
    def grads():
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(tf.square(layer(x)))
        return tape.gradient(loss, [x, *layer.trainable_variables])

    return tf.function(grads), tf.function(grads, jit_compile=True)


def _bijector_grad_fns(bijector, x):
    """Plain and XLA ``tf.function`` s: a flow layer's forward, log-det and gradients."""
    def grads():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y, log_det = bijector.forward_and_log_det(x)
            loss = tf.reduce_mean(tf.square(y)) - tf.reduce_mean(log_det)
        return tape.gradient(loss, [x, *bijector.trainable_variables])

    bijector.forward_and_log_det(x)  # builds it
    return tf.function(grads), tf.function(grads, jit_compile=True)


def _noise_cases(shape):
    """One batch of Glow's dequantization noise from a `keras.random.SeedGenerator`,
    drawn by `keras.random.uniform` and by `unigen._random.uniform` (the same values
    outside XLA), plain and XLA."""
    from unigen import _random

    cases = {}
    for label, draw in (("keras.random", keras.random.uniform),
                        ("unigen._random", _random.uniform)):
        generators = keras.random.SeedGenerator(0), keras.random.SeedGenerator(0)
        fns = tuple(tf.function(lambda g=g, d=draw: [d(shape, seed=g)], jit_compile=jit)
                    for g, jit in zip(generators, (False, True), strict=True))
        cases[f"glow noise {'x'.join(map(str, shape))} by {label}"] = fns
    return cases


def _inputs_of(network, layer, x):
    """The tensor ``layer`` of the functional or sequential ``network`` sees for input ``x``."""
    return keras.Model(network.inputs, layer.input)(x)


def xla_lowering(layer, x):
    """How XLA:CPU lowers ``layer``'s convolution: the window line of its optimised HLO."""
    fn = tf.function(lambda t: layer(t), jit_compile=True, autograph=False)
    hlo = fn.experimental_get_compiler_ir(x)(stage="optimized_hlo")
    return [line.split("window={")[1].split("}")[0] for line in hlo.splitlines()
            if " convolution(" in line and "window=" in line]


def model_cases(mode="full"):
    """``{case: (plain, xla)}`` for the speed suite's models at ``mode``'s size, and
    ``{case: lowering}`` for their transposed convolutions."""
    from benchmarks.speed import configs

    cfg = configs.config(mode)
    batch = cfg["batch"]
    data = configs.training_data(cfg).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)
    out, lowering = {}, {}
    for name in configs.MODELS:
        steps = []
        for jit in (False, True):
            model = configs.factory(name, cfg)()
            model.compile_for_fit(learning_rate=1e-3, jit_compile=jit)
            steps.append(timing.train_step_runner(model, dataset))
        out[f"{name} train step"] = tuple(steps)
        if name == "glow":
            _, _, hidden = cfg["glow"]
            h, _, c = cfg["shape"]
            for size, channels in ((h // 2, 2 * c), (h // 4, 4 * c)):  # after 1 and 2 squeezes
                x = tf.random.stateless_normal([batch, size, size, channels], seed=[1, 2])
                layers = [keras.layers.Conv2D(hidden, 3, padding="same", activation="relu"),
                          keras.layers.Conv2D(hidden, 1, activation="relu"),
                          keras.layers.Conv2D(2 * channels, 3, padding="same")]
                for layer in layers:
                    k = layer.kernel_size[0] if hasattr(layer, "kernel_size") else 1
                    out[f"glow coupling {size}x{size} {k}x{k} {x.shape[-1]}->{layer.filters}"] = (
                        _layer_grad_fns(layer, x))
                    x = layer(x)
            from unigen.flows import ActNorm, AffineCoupling, InvertibleConv1x1, SplitPrior, Squeeze

            out.update(_noise_cases((batch, h, h, c)))
            out[f"glow bijector squeeze {h}x{h}x{c}"] = _bijector_grad_fns(
                Squeeze(), tf.random.stateless_normal([batch, h, h, c], seed=[1, 2]))
            for size, channels in ((h // 2, 4 * c), (h // 4, 8 * c)):
                x = tf.random.stateless_normal([batch, size, size, channels], seed=[1, 2])
                for label, bijector in (("actnorm", ActNorm()), ("invconv", InvertibleConv1x1()),
                                        ("affine coupling", AffineCoupling(hidden)),
                                        ("split prior", SplitPrior())):
                    out[f"glow bijector {label} {size}x{size}x{channels}"] = (
                        _bijector_grad_fns(bijector, x))
            continue
        model = configs.factory(name, cfg)()
        model.build((None, *cfg["shape"]))
        if name == "dcgan":
            nets = {"generator": (model.generator, (batch, cfg["latent"])),
                    "discriminator": (model.discriminator, (batch, *cfg["shape"]))}
        else:
            nets = {"encoder": (model.encoder, (batch, *cfg["shape"])),
                    "decoder": (model.decoder, (batch, model.latent_dim))}
        for net_name, (network, shape) in nets.items():
            x0 = tf.random.stateless_normal(shape, seed=[1, 2])
            for index, layer in enumerate(network.layers):
                if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                                          keras.layers.Dense)):
                    continue
                x = _inputs_of(network, layer, x0)
                kind = type(layer).__name__
                out[f"{name} {net_name} layer {index} {kind} {tuple(x.shape[1:])}"] = (
                    _layer_grad_fns(layer, x))
                if isinstance(layer, keras.layers.Conv2DTranspose):
                    lowering[f"{name} {net_name} layer {index}"] = xla_lowering(layer, x)
    return out, lowering


def run_models(args):
    """``--models``: each model's step and layers, plain against XLA, in CPU time."""
    load_start = list(os.getloadavg())
    fns, lowering = model_cases(args.mode)
    contenders = {}
    for name, (plain, xla) in fns.items():
        for tag, fn in (("tf", plain), ("xla", xla)):
            contenders[f"{name} {tag}"] = (
                fn if name.endswith("train step") else
                lambda f=fn: [t.numpy() for t in f()])
    first = f"{next(iter(fns))} tf"
    result = timing.interleave(contenders, rounds=args.rounds, steps_per_round=3,
                               control=first)
    out = {"command": "python benchmarks/xla_cpu.py " + " ".join(sys.argv[1:]),
           "load_average_start": load_start, "load_average_rounds": result["load_average"],
           "mode": args.mode, "aa_control": result["control"], "cases": {},
           "xla_lowering_of_transposed_convolutions": lowering}
    for name in fns:
        tf_stats = result["contenders"][f"{name} tf"]
        xla_stats = result["contenders"][f"{name} xla"]
        ratio = timing.compare(result, f"{name} xla", f"{name} tf", clock="cpu")
        entry = {"tf_cpu_ms": 1000 * tf_stats["cpu_step_seconds_median"],
                 "xla_cpu_ms": 1000 * xla_stats["cpu_step_seconds_median"],
                 "tf_wall_ms": 1000 * tf_stats["step_seconds_median"],
                 "xla_wall_ms": 1000 * xla_stats["step_seconds_median"],
                 "xla_over_tf_speed_cpu": ratio}
        out["cases"][name] = entry
        print(f"{name:58s} tf {entry['tf_cpu_ms']:7.2f}  xla {entry['xla_cpu_ms']:7.2f} CPU ms  "
              f"XLA speed {ratio['median']:.2f}x [{ratio['quartiles'][0]:.2f}-"
              f"{ratio['quartiles'][1]:.2f}], {ratio['verdict']}")
    for name, windows in lowering.items():
        print(f"XLA lowers {name} as a convolution with window {{{'; '.join(windows)}}}")
    print(f"load average {min(result['load_average']):.2f} to {max(result['load_average']):.2f}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--models", action="store_true",
                        help="decompose the speed suite's DCGAN, VAE and Glow steps")
    parser.add_argument("--mode", default="full", choices=("smoke", "quick", "full"),
                        help="with --models: the speed suite's sizes")
    parser.add_argument("--out", default=None,
                        help="JSON file (default benchmarks/results/xla_cpu_layers.json, "
                             "with --models xla_cpu_models.json)")
    args = parser.parse_args()
    if args.models:
        out = run_models(args)
        write_result("xla_cpu_models", out, out=args.out,
                     load_average_start=out["load_average_start"])
        return
    load_start = list(os.getloadavg())
    fns = cases()
    contenders = {}
    for name, (plain, xla) in fns.items():
        contenders[name + " tf"] = lambda f=plain: [t.numpy() for t in f()]
        contenders[name + " xla"] = lambda f=xla: [t.numpy() for t in f()]
    result = timing.interleave(contenders, rounds=args.rounds, steps_per_round=3,
                               control="dcgan_discriminator tf")
    out = {"command": "python benchmarks/xla_cpu.py " + " ".join(sys.argv[1:]),
           "load_average_start": load_start, "load_average_rounds": result["load_average"],
           "batch": 64, "aa_control": result["control"], "cases": {}}
    for name in fns:
        ratio = timing.compare(result, name + " xla", name + " tf")
        entry = {"tf_ms": 1000 * result["contenders"][name + " tf"]["step_seconds_median"],
                 "xla_ms": 1000 * result["contenders"][name + " xla"]["step_seconds_median"],
                 "xla_over_tf_speed": ratio}
        out["cases"][name] = entry
        print(f"{name:42s} tf {entry['tf_ms']:7.2f} ms  xla {entry['xla_ms']:7.2f} ms  "
              f"XLA speed {ratio['median']:.2f}x [{ratio['quartiles'][0]:.2f}-"
              f"{ratio['quartiles'][1]:.2f}], {ratio['verdict']}")
    print(f"load average {min(result['load_average']):.2f} to {max(result['load_average']):.2f}")
    write_result("xla_cpu_layers", out, out=args.out, load_average_start=load_start)


if __name__ == "__main__":
    main()
