"""Registry builders shared by the families (``event_shape`` to ``image_shape``)."""

from unigen import _checks

__all__ = ["image_builder"]


def image_builder(cls):
    """``build(event_shape, num_levels=None, **kwargs)`` making ``cls(image_shape=...)``.

    For models of images only (their constructors take ``image_shape``): the registry,
    the command line and ``unigen compare`` call every builder with ``event_shape``;
    a shape that is not (height, width, channels) is refused with the model's name.
    """

    def build(event_shape, num_levels="auto", **kwargs):
        event_shape = _checks.image_shape(None, event_shape, owner=cls.__name__)
        return cls(image_shape=event_shape, num_levels=num_levels, **kwargs)

    build.__name__ = build.__qualname__ = f"create_{cls.__name__.lower()}"
    build.__doc__ = f"Registry builder: `{cls.__name__}` for images (see `image_builder`)."
    return build
