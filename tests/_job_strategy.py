"""The strategy of a test job from its --replicas / --multiworker flags.

Shared by tests/jobs*.py; it must run before any TensorFlow op of the process
(splitting the CPU and multi-worker training both require it).
"""


def strategy_from_args(args):
    """None, MirroredStrategy over ``args.replicas`` CPU devices, or multi-worker."""
    import unigen  # no TensorFlow op runs at import

    if getattr(args, "multiworker", False):
        return unigen.get_strategy("multiworker")
    if args.replicas > 1:
        import tensorflow as tf

        return tf.distribute.MirroredStrategy(unigen.split_cpu(args.replicas))
    return None
