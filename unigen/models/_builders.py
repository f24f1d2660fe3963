"""Registry builders shared by the families (``event_shape`` to ``image_shape``)."""

__all__ = ["image_builder"]


def image_builder(cls):
    """``build(event_shape, num_levels=None, **kwargs)`` making ``cls(image_shape=...)``.

    For models of images only (their constructors take ``image_shape``): the registry,
    the command line and ``unigen compare`` call every builder with ``event_shape``;
    a shape that is not (height, width, channels) is refused with the model's name.
    """

    def build(event_shape, num_levels="auto", **kwargs):
        event_shape = tuple(int(d) for d in event_shape)
        if len(event_shape) != 3:
            raise ValueError(f"{cls.__name__} models images: `event_shape` must be (height, "
                             f"width, channels), got {event_shape!r}.")
        return cls(image_shape=event_shape, num_levels=num_levels, **kwargs)

    build.__name__ = build.__qualname__ = f"create_{cls.__name__.lower()}"
    build.__doc__ = f"Registry builder: `{cls.__name__}` for images (see `image_builder`)."
    return build
