"""Argument checking of `unigen.GenerativeModel`'s public methods, in one place.

`InputChecksMixin` checks data batches (dtype, shape, finite values, levels),
training labels, and the keyword options of ``sample`` / ``log_prob``
(``seed``, ``num_samples``, ``temperature``, ``labels``), so that every family
reports a bad argument the same way, before any work is done. The functions
check single arguments (numbers, bools, widths, shapes, output directories).
"""

import difflib
import inspect
import math
import os

import numpy as np
import tensorflow as tf

from unigen import _seeding, errors

__all__ = ["AUTO_LEVELS", "IMAGE_LEVELS", "InputChecksMixin", "check_bool", "check_finite",
           "check_number", "check_output_dir", "check_positive_int", "check_widths",
           "did_you_mean", "hook_options", "image_shape", "plural", "resolve_num_levels",
           "unknown_options_message"]

#: Levels of 8-bit images, 0..255: what a model of images assumes unless told otherwise.
IMAGE_LEVELS = 256
#: The default ``num_levels`` of every model: `IMAGE_LEVELS` for images (events of
#: shape (height, width, channels)), None (continuous) for other shapes.
AUTO_LEVELS = "auto"


def check_positive_int(name, value):
    """``value`` as an int; raises ValueError naming ``name`` unless it is a positive int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    return int(value)


def check_number(name, value, *, minimum=None, positive=False, hint=""):
    """``value`` as a finite float; raises ValueError naming ``name`` unless it is one.

    ``minimum``: the smallest accepted value; ``positive``: it must be > 0.
    ``hint`` (what the value means) goes into the message.
    """
    if minimum is not None:
        rule = f"a number >= {minimum:g}"
    else:
        rule = "a positive number" if positive else "a finite number"
    try:
        number = None if isinstance(value, (bool, str)) else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number) or (positive and not number > 0) or (
            minimum is not None and not number >= minimum):
        raise ValueError(f"`{name}` must be {rule}{hint}, got {value!r}.")
    return number


def check_output_dir(directory, what="output_dir"):
    """Creates the directory ``directory`` (or checks that it is one) before any work.

    Raises `unigen.errors.RunDirectoryError` naming ``what`` (the argument)
    when the path is a file or cannot be created or written to: a run, a
    comparison or a report would otherwise fail only when it writes its
    results, after its work.
    """
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise errors.RunDirectoryError(
            f"{what} {directory!r} is a file, not a directory; pass the path of "
            f"a directory (it is created if missing).", path=directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise errors.RunDirectoryError(
            f"Cannot create {what} {directory!r}: {err.strerror or err}. Pass a "
            f"directory you can write to.", path=directory) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise errors.RunDirectoryError(
            f"Cannot write to {what} {directory!r}: permission denied. Pass a "
            f"directory you can write to.", path=directory)
    return directory


def check_bool(name, value):
    """``value`` as a bool; raises TypeError naming ``name`` unless it is True or False.

    A string such as ``"no"`` is truthy, so accepting any value would silently
    do the opposite of what was meant.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {value!r}.")
    return bool(value)


def check_widths(name, values):
    """``values`` (layer widths) as a non-empty list of positive ints, else ValueError."""
    try:
        widths = [int(v) for v in values]
        ok = bool(widths) and all(w >= 1 and w == v for w, v in zip(widths, values,
                                                                     strict=True))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"`{name}` must list positive layer widths, for example (128, 128); "
                         f"got {values!r}.")
    return widths


def check_finite(x, what="The data", fix=None):
    """Raises `DataError` when the float array ``x`` holds NaN or infinite values.

    ``what`` names the data in the message (for example "`data`"); ``fix``
    replaces the default advice (remove or impute them).
    """
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        rows = int(np.count_nonzero(~np.isfinite(x).reshape(len(x), -1).all(axis=1))) \
            if x.ndim else 1
        fix = fix or ("Remove or impute them first, for example keep "
                      "x[np.isfinite(x).reshape(len(x), -1).all(axis=1)].")
        raise errors.DataError(
            f"{what} contain {bad} NaN or infinite value(s), in {rows} example(s). {fix}")


def image_shape(image_shape, event_shape=None, *, owner=None, hint=""):
    """The (height, width, channels) of an image model, as a tuple of ints.

    Image models take their shape as ``image_shape``; ``event_shape`` (the
    shape argument's name in every family, used when models are built by
    name) wins when given. Raises ValueError naming the argument and the fix
    unless the shape has three positive integer sizes; ``owner`` (a model's
    name) and ``hint`` (an alternative for other data) go into the message.
    """
    name = "event_shape" if event_shape is not None else "image_shape"
    shape = event_shape if event_shape is not None else image_shape
    what = f"{owner} models images: " if owner else ""
    tail = f" {hint}" if hint else ""
    if shape is None:
        raise ValueError(f"{what}`image_shape` is required: pass (height, width, channels), "
                         f"e.g. (28, 28, 1).{tail}")
    try:
        shape = tuple(shape)
        ints = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{what}`{name}` must be (height, width, channels) of ints, got "
                         f"{shape!r}.{tail}") from None
    if len(ints) == 2:
        raise ValueError(f"{what}`{name}` must be (height, width, channels), got {shape!r}: "
                         f"for grey images add the channel axis, {(*ints, 1)!r}.{tail}")
    if len(ints) != 3:
        raise ValueError(f"{what}`{name}` must be (height, width, channels), got {shape!r}."
                         f"{tail}")
    if any(d < 1 or d != s for d, s in zip(ints, shape, strict=True)):
        raise ValueError(f"{what}`{name}` must be (height, width, channels) of positive ints, "
                         f"got {shape!r}.{tail}")
    return ints


def unknown_options_message(model_class, kwargs):
    """The message for keyword arguments that no constructor of ``model_class`` takes.

    Names the unknown ones, a close match where there is one, and every option
    of the constructors from ``model_class`` up to `unigen.GenerativeModel`.
    """
    options = {"name", "dtype", "trainable"}
    for klass in model_class.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass.__module__.split(".")[0] != "unigen":
            continue
        options |= {p.name for p in inspect.signature(init).parameters.values()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"}
    # Arguments of a base class that the subclass sets itself (a preset's networks).
    options -= set(getattr(model_class, "_not_options", ()))
    unknown = sorted(set(kwargs) - options) or sorted(kwargs)
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, options, n=1)
        if close:
            hints.append(f"`{key}` -> `{close[0]}`?")
    hint = f" Did you mean: {', '.join(hints)}" if hints else ""
    return (f"{model_class.__name__} got unknown keyword argument(s) "
            f"{', '.join(f'`{k}`' for k in unknown)}.{hint} It takes: "
            f"{', '.join(sorted(options))}.")


def plural(count, noun, plural_noun=None):
    """``"1 epoch"``, ``"2 epochs"``: a count and its noun in the right number, for messages.

    ``plural_noun`` is the plural when it is not ``noun + "s"``.
    """
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def _describe_values(values):
    """``"3 values of dtype float64 in [0, 12]"``: an array summarised for a message."""
    text = f"{plural(values.size, 'value')} of dtype {values.dtype}"
    if values.size and (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        text += f" in [{values.min():g}, {values.max():g}]"
    return text


def did_you_mean(name, choices):
    """`` Did you mean 'x'?`` for the choice closest to a mistyped ``name``, or ""."""
    close = difflib.get_close_matches(str(name).lower(), list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def hook_options(hook):
    """Names of the keyword options a ``_log_prob`` / ``_sample`` hook takes."""
    params = list(inspect.signature(hook).parameters.values())
    return [p.name for p in params if p.default is not inspect.Parameter.empty]


def resolve_num_levels(num_levels, event_shape, model_class):
    """The one ``num_levels`` rule of every model; returns an int L >= 2 or None.

    * ``"auto"`` (every constructor's default): 256 levels (8-bit images) when the
      event is an image (height, width, channels); None (continuous data) for
      vectors and other shapes.
    * an int L: discrete data, integer levels 0..L-1.
    * None: continuous data.

    A family that needs discrete levels (``supports_continuous = False``:
    autoregressive and sequence models) refuses None; a family of real vectors
    only (``supports_discrete = False``: `MLPGAN`) refuses an int. Both errors
    name ``num_levels`` and the family's hint (``levels_hint``).
    """
    name = model_class.__name__
    hint = getattr(model_class, "levels_hint", "")
    if isinstance(num_levels, str):
        if num_levels != AUTO_LEVELS:
            raise ValueError(f"`num_levels` must be an int >= 2, None (continuous data) or "
                             f"'auto', got {num_levels!r}.")
        num_levels = IMAGE_LEVELS if len(event_shape) == 3 else None
        if num_levels is None and not model_class.supports_continuous:
            raise ValueError(f"{name} needs `num_levels` for data of shape {event_shape} "
                             f"(only images default to {IMAGE_LEVELS} levels). {hint}".strip())
    if num_levels is None:
        if not model_class.supports_continuous:
            raise ValueError(f"{name} needs `num_levels`: it is a distribution over discrete "
                             f"levels and cannot model continuous data (num_levels=None). "
                             f"{hint}".strip())
        return None
    num_levels = check_positive_int("num_levels", num_levels)
    if num_levels < 2:
        raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
    if not model_class.supports_discrete:
        raise ValueError(f"{name} models real vectors: pass num_levels=None (the default "
                         f"for vectors), got num_levels={num_levels}. {hint}".strip())
    return num_levels


class InputChecksMixin:
    """Checks of data batches and of the options of ``sample`` / ``log_prob``."""

    #: Added to the error for training data without labels (for example where to load them).
    labels_hint = ""

    def _label_range(self):
        """(lowest, highest) integer label that training data carry, or None.

        None: the model takes no labels (a ``y`` in the data is ignored). A
        conditional model (``num_classes`` K) trains on ``(x, y)`` with y in
        0..K-1; a family with other labels overrides this (a semi-supervised
        GAN: -1 marks an unlabelled example).
        """
        if self.num_classes is None:
            return None
        return 0, self.num_classes - 1

    def _labels_refused(self):
        """The error for training data with labels, for a model whose data must carry
        none (a translation model given multi-domain data); None: a ``y`` is ignored."""
        return None

    def validate_labels(self, y):
        """Checks the labels ``y`` of training data (None: data without labels).

        A model that takes labels (`_label_range`) needs one integer label per
        example, in its range; a label outside it would index past an
        embedding or a class logit inside the training step, which fails there
        as a TensorFlow error or silently trains on a zero vector. Raises
        `DataError`; `unigen.fit` calls it with the data's ``x`` check.
        """
        bounds = self._label_range()
        if bounds is None:
            refusal = self._labels_refused()
            if y is not None and refusal:
                raise errors.DataError(refusal)
            return
        low, high = bounds
        name = type(self).__name__
        what = (f"integer labels y in {low}..{high}"
                + (f" ({low} marks an unlabelled example)" if low < 0 else ""))
        if y is None:
            raise errors.DataError(
                f"{name} trains on (x, y) pairs with {what}, but the data hold x "
                f"only. Pass unigen.fit(model, (x, y)); "
                + (self.labels_hint or "for example x, y = unigen.datasets.as_numpy("
                   "'digits', 'train', with_labels=True)."))
        y = np.asarray(y)
        if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
                or y.dtype == np.bool_):
            raise errors.DataError(f"{name} needs {what}, got labels of dtype {y.dtype}. "
                                   f"Convert them with np.asarray(y, dtype='int32').")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            hint = (" They look one-hot: pass y.argmax(axis=1)." if y.ndim == 2
                    and y.shape[1] == high + 1 else "")
            raise errors.DataError(f"{name} needs one label per example, shape [batch], got "
                                   f"labels of shape {list(y.shape)}.{hint}")
        if y.size == 0:
            return
        integral = not np.issubdtype(y.dtype, np.floating) or bool(np.all(np.floor(y) == y))
        lo, hi = float(np.min(y)), float(np.max(y))
        if integral and lo >= low and hi <= high:
            return
        raise errors.DataError(
            f"{name} needs {what}, got labels in [{lo:g}, {hi:g}]"
            f"{'' if integral else ' that are not all integers'}. Map the classes to "
            f"{max(low, 0)}..{high} first (for example np.unique(y, return_inverse=True)[1]), "
            f"or build the model for as many classes as the labels have.")

    def validate_data(self, x):
        """Checks a batch against what the model expects; raises `DataError`.

        Checks, in order: numeric dtype, shape ``[batch, *event_shape]``, finite
        values, and for discrete models integer levels in ``[0, num_levels-1]``.
        Works on NumPy values; `unigen.fit` calls it on the first batch.
        """
        if isinstance(x, tf.data.Dataset):
            raise errors.DataError(
                "Got a tf.data.Dataset, but this takes one batch of examples (an array or "
                "tensor [batch, *event_shape]). Take a batch, x = next(iter(ds.batch(64))), "
                "score every batch, [model.log_prob(x) for x in ds.batch(256)], or score a "
                "whole split with unigen.evaluate(model, data, metrics=['nll']).")
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as err:  # a ragged list
            raise errors.DataError(
                f"The data cannot be converted to one numeric array ({err}). Pass an array "
                f"[batch, *event_shape]; a list of examples must have equal shapes.") from None
        if np.issubdtype(x.dtype, np.complexfloating):
            raise errors.DataError(
                f"Data must hold real numbers, got dtype {x.dtype}. Pass the real part "
                f"(x.real) or the magnitude (np.abs(x)) as float32.")
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise errors.DataError(
                f"Data must be numeric, got dtype {x.dtype}. Convert it with "
                f"np.asarray(x, dtype='float32')."
            )
        self._validate_shape(tuple(x.shape))
        if x.shape[0] == 0:
            raise errors.DataError("The batch is empty (0 examples).")
        check_finite(x)
        if self.num_levels is not None:
            self._validate_levels(x)
        elif x.dtype == np.uint8:
            raise errors.DataError(
                f"The data are uint8 (8-bit levels 0..255), but {type(self).__name__} was "
                f"built with num_levels=None for continuous data. Build it with "
                f"num_levels={IMAGE_LEVELS} (the default for images), or with the "
                f"dataset's levels (unigen.datasets.info(name).num_levels); to model "
                f"the values as continuous, pass floats (x.astype('float32')).")

    def _check_call_options(self, hook, method, options, batch):
        """Checks ``options`` against what ``hook`` takes and the shared option rules."""
        accepted = hook_options(hook)
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            takes = ", ".join(f"`{name}`" for name in accepted) or "no options"
            raise TypeError(f"{type(self).__name__}.{method} takes {takes}; got "
                            f"{', '.join(f'`{name}`' for name in unknown)}.")
        options = dict(options)
        if "num_samples" in options:
            options["num_samples"] = check_positive_int("num_samples", options["num_samples"])
        if "seed" in options:
            options["seed"] = _seeding.check_seed(options["seed"])
        if "temperature" in options:
            options["temperature"] = check_number("temperature", options["temperature"],
                                                  minimum=0)
        if options.get("labels") is not None:
            options["labels"] = self._check_labels(options["labels"], batch)
        return options

    def _check_labels(self, labels, batch):
        """Integer labels ``[batch]`` in 0..num_classes-1, as an int32 tensor."""
        if self.num_classes is None:
            raise ValueError(f"`labels` needs a conditional {type(self).__name__} "
                             f"(num_classes set).")
        if isinstance(labels, tf.Tensor) and not tf.executing_eagerly():
            return tf.reshape(tf.cast(labels, "int32"), [-1])
        values = np.asarray(labels).reshape(-1)
        if (values.shape[0] != batch or not np.issubdtype(values.dtype, np.integer)
                or values.min() < 0 or values.max() >= self.num_classes):
            raise ValueError(f"`labels` must be {batch} ints in 0..{self.num_classes - 1}, "
                             f"got {_describe_values(values)}.")
        return tf.constant(values, "int32")

    def _convert_input(self, x):
        if tf.executing_eagerly() and not isinstance(x, tf.Tensor | tf.Variable):
            self.validate_data(x)
        elif tf.executing_eagerly():
            self.validate_data(x.numpy())
        else:
            self._validate_shape(tuple(x.shape))
        return self._preprocess(tf.convert_to_tensor(x))

    def _validate_shape(self, shape):
        expected = (None, *self.event_shape)
        if tuple(shape[1:]) == self.event_shape and len(shape) == len(expected):
            return
        hint = ""
        if tuple(shape) == self.event_shape:
            hint = " It looks like a single example: add a batch axis with x[None]."
        elif (*tuple(shape[1:]), 1) == self.event_shape:
            hint = " Add the channel axis with x[..., None]."
        raise errors.DataError(
            f"{type(self).__name__} expects batches of shape [batch, "
            f"{', '.join(str(d) for d in self.event_shape)}] (event_shape="
            f"{self.event_shape}), got shape {list(shape)}.{hint}"
        )

    def validate_values(self, x, what):
        """The value checks of `validate_data` (finite; integer levels in range) on
        ``x`` of any shape, for example the source images of a translation model;
        the message names ``what``."""
        x = np.asarray(x)
        try:
            check_finite(x, "The values")
            if self.num_levels is not None:
                self._validate_levels(x)
        except errors.DataError as err:
            raise errors.DataError(f"In `{what}`: {err}") from None

    def _validate_levels(self, x):
        top = self.num_levels - 1
        lo, hi = float(np.min(x)), float(np.max(x))
        integral = np.issubdtype(x.dtype, np.integer) or bool(np.all(np.floor(x) == x))
        if integral and lo >= 0 and hi <= top:
            return
        if not integral and lo >= 0.0 and hi <= 1.0:
            raise errors.DataError(
                f"The data look scaled to [0, 1] (non-integer values in "
                f"[{lo:g}, {hi:g}]), but {type(self).__name__} expects integer "
                f"levels 0..{top} as unigen.datasets loads them. Pass the data "
                f"unscaled (for example np.round(x * {top})), or build the model "
                f"with num_levels=None for continuous data."
            )
        raise errors.DataError(
            f"{type(self).__name__} has num_levels={self.num_levels} and expects "
            f"integer values in 0..{top}, got values in [{lo:g}, {hi:g}]"
            f"{'' if integral else ' that are not integers'}. Build the model "
            f"with the num_levels of your data (256 for uint8 images) or "
            f"num_levels=None for continuous data."
        )
