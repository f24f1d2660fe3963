"""Choosing a `tf.distribute` strategy and scaling losses for its replicas.

The one place where unigen knows about replicas. Keras sums gradients across
replicas, so a mean loss computed by hand on one replica's share of the global
batch must be divided by the number of replicas; `scale_loss_for_replicas` does it
and every model's loss goes through it.
"""

import os
import weakref

import tensorflow as tf

__all__ = [
    "get_strategy",
    "global_batch_noise",
    "is_chief",
    "minimize",
    "resolve_jit_compile",
    "scale_loss_for_replicas",
    "split_cpu",
]

_NAMES = ("default", "mirrored", "multiworker", "tpu")


def scale_loss_for_replicas(loss):
    """Divides a per-replica mean loss by the number of replicas in sync.

    Under a strategy with R replicas each replica sees B/R examples of a global
    batch B and Keras adds the R gradients; dividing each replica's mean by R
    makes the sum equal to the gradient of the global mean.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        loss = loss * tf.cast(1.0 / replicas, loss.dtype)
    return loss


def minimize(optimizer, loss_fn, variables):
    """One gradient step of ``optimizer`` on ``variables``: every unigen update.

    ``loss_fn()`` returns the per-replica mean loss, or a tuple whose first item
    is it (the rest is passed back, for example the terms to report). Its
    gradient is taken after dividing by the number of replicas
    (`scale_loss_for_replicas`) and scaling for mixed precision
    (``optimizer.scale_loss``: a `keras.optimizers.LossScaleOptimizer` scales
    under "mixed_float16" and skips a non-finite step; other optimizers return
    the loss as is). Returns what ``loss_fn`` returned.
    """
    with tf.GradientTape() as tape:
        out = loss_fn()
        loss = out[0] if isinstance(out, tuple) else out
        scaled = optimizer.scale_loss(scale_loss_for_replicas(loss))
    grads = tape.gradient(scaled, variables)
    optimizer.apply_gradients(zip(grads, variables, strict=True))
    return out


def split_cpu(num_devices=2):
    """Splits the CPU into ``num_devices`` logical devices for local replicas.

    Must run before any TensorFlow op. Returns the device names, ready for
    ``tf.distribute.MirroredStrategy(devices)``.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices
        )
    except RuntimeError as err:
        configured = tf.config.list_logical_devices("CPU")
        if len(configured) != num_devices:
            raise RuntimeError(
                f"Could not split the CPU into {num_devices} devices: TensorFlow was "
                f"already initialised with {len(configured)}. Call split_cpu() at the "
                f"top of the program, before any TensorFlow op."
            ) from err
    return [f"/cpu:{i}" for i in range(num_devices)]


def get_strategy(strategy=None, *, tpu=None):
    """Resolves a strategy argument to a `tf.distribute.Strategy`.

    Args:
        strategy: None or "default" (the current strategy, usually one device);
            "mirrored" (all local GPUs, or the CPU); "multiworker"
            (`MultiWorkerMirroredStrategy`, cluster from the ``TF_CONFIG``
            environment variable); "tpu" (`TPUStrategy`, TPU address from ``tpu``
            or the ``TPU_NAME`` environment variable, else the TPU chips of this
            host); or a Strategy instance.
        tpu: TPU name or address for ``strategy="tpu"``.
    """
    if strategy is None or strategy == "default":
        return tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.Strategy):
        return _with_own_collective_keys(strategy)
    if not isinstance(strategy, str) or strategy.lower() not in _NAMES:
        raise ValueError(
            f"`strategy` must be None, one of {list(_NAMES)} or a "
            f"tf.distribute.Strategy, got {strategy!r}."
        )
    name = strategy.lower()
    if name == "mirrored":
        return _with_own_collective_keys(tf.distribute.MirroredStrategy())
    if name == "multiworker":
        return _multiworker()
    return _tpu(tpu)


# MirroredStrategy objects that unigen has trained with in this process, and the
# collective-key base of the latest one.
_SEEN = weakref.WeakSet()
_KEY_STRIDE = 1_000_000
_next_key_base = [0]


def _with_own_collective_keys(strategy):
    """Gives a second `MirroredStrategy` in one process collective keys of its own.

    Every `tf.distribute.MirroredStrategy` numbers its collective ops (the
    gradient all-reduce) from the same first key, and the TensorFlow runtime
    caches each key's tensor shape for the life of the process. So a second
    strategy built after a first one (a notebook training two models one after
    the other) reuses keys with other shapes and fails with "Shape mismatch in
    the collective instance". TensorFlow's own tests avoid it by giving each
    strategy a different key base (``_collective_key_base``); this does the
    same for every strategy after the first that unigen trains with, before
    any collective op of it runs.
    """
    if not isinstance(strategy, tf.distribute.MirroredStrategy) or strategy in _SEEN:
        return strategy
    extended = strategy.extended
    if len(_SEEN) and hasattr(extended, "_make_collective_ops_with_fallbacks"):
        _next_key_base[0] += _KEY_STRIDE
        old = extended._collective_ops
        extended._collective_key_base = _next_key_base[0]
        extended._collective_ops = extended._make_collective_ops_with_fallbacks()
        if extended._cross_device_ops is old:
            extended._cross_device_ops = extended._collective_ops
    _SEEN.add(strategy)
    return strategy


def _multiworker():
    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            'strategy="multiworker" needs the TF_CONFIG environment variable, '
            'for example {"cluster": {"worker": ["localhost:12345", '
            '"localhost:12346"]}, "task": {"type": "worker", "index": 0}}, set '
            "in each worker process."
        )
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as err:
        raise RuntimeError(
            f'strategy="multiworker" could not start ({err}). The strategy must be '
            f"created before any TensorFlow op in the process: call unigen.fit "
            f"with data given as a dataset name or NumPy array and the model as a "
            f"factory, or create unigen.get_strategy('multiworker') first."
        ) from err


def _tpu(tpu):
    # "local" looks only for TPU chips on this host; without it the resolver
    # would query the cloud metadata server over the network.
    address = tpu if tpu is not None else os.environ.get("TPU_NAME", "local")
    if address == "local" and not tf.config.list_physical_devices("TPU"):
        raise RuntimeError(
            'strategy="tpu" found no TPU on this host. Run on a TPU VM, or pass '
            "tpu=<name or grpc address> / set TPU_NAME for a remote TPU; use "
            'strategy=None or "mirrored" on CPUs and GPUs.'
        )
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as err:
        raise RuntimeError(
            f'strategy="tpu" found no TPU ({type(err).__name__}: {err}). Run on a '
            f"TPU VM, or pass tpu=<name or grpc address> / set TPU_NAME; use "
            f'strategy=None or "mirrored" on CPUs and GPUs.'
        ) from err
    return tf.distribute.TPUStrategy(resolver)


def resolve_jit_compile(jit_compile, strategy):
    """``jit_compile`` as a bool: "auto" means XLA on GPUs and TPUs, not on CPUs.

    Why per device: on a CPU, TensorFlow's own kernels (oneDNN) beat XLA:CPU's for
    convolutions (measured in ``docs/benchmarks.rst``: the DCGAN's step 0.29x to 0.33x,
    the 28x28 VAE's 0.66x with XLA), so "auto" leaves XLA off there. On GPUs and TPUs
    XLA fuses the many small element-wise ops of these models (on TPUs it is the only
    compiler), so "auto" turns it on; every registered model compiles with XLA (the
    contract tests train each with ``jit_compile=True`` on a CPU).
    """
    if jit_compile == "auto":
        try:
            devices = list(strategy.extended.worker_devices)
        except (RuntimeError, AttributeError):  # the default strategy: TF's own placement
            devices = [d.name for d in tf.config.list_logical_devices()]
        return any(("GPU" in d.upper() or "TPU" in d.upper()) for d in devices)
    if not isinstance(jit_compile, bool):
        raise ValueError(f'`jit_compile` must be True, False or "auto", got {jit_compile!r}.')
    return jit_compile


def is_chief(strategy):
    """True in the process that writes files: worker 0, or the chief if any."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type or task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and resolver.task_id == 0 and not has_chief


def global_batch_noise(draw, per_replica_batch):
    """Noise for this replica's share of the global batch, the same on any layout.

    ``draw(n)`` must draw ``n`` rows from a generator whose state is the same on
    every replica (a model-owned `keras.random.SeedGenerator`). Each replica draws
    the rows of the whole global batch and keeps its own slice, so a training
    step on R replicas sees exactly the noise it would see on one device: replica
    r takes rows [r*b, (r+1)*b), matching how `tf.distribute` splits a batch.

    Args:
        draw: function of an int returning a tensor with that many rows.
        per_replica_batch: rows this replica needs (a scalar int tensor or int).
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1:
        return draw(per_replica_batch)
    context = tf.distribute.get_replica_context()
    replica = context.replica_id_in_sync_group if context is not None else 0
    full = draw(per_replica_batch * replicas)
    return full[replica * per_replica_batch:(replica + 1) * per_replica_batch]


def gather_global_batch(*tensors):
    """Every replica's rows of each tensor, concatenated in replica order.

    A statistic of the whole batch that is not a mean of per-example terms (the
    MMD between a data batch and a generated batch) must see the global batch
    to be the same on R replicas as on one device. `all_gather` passes gradients
    back to each replica's own rows; with the loss then divided by R
    (`scale_loss_for_replicas`) and Keras summing the replicas' gradients, the
    update equals one device's. Returns the tensors unchanged on one replica.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    context = tf.distribute.get_replica_context()
    if replicas == 1 or context is None:
        return tensors if len(tensors) != 1 else tensors[0]
    gathered = tuple(context.all_gather(t, axis=0) for t in tensors)
    return gathered if len(gathered) != 1 else gathered[0]
