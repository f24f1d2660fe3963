"""One check of an image model's shape (`unigen._checks.image_shape`) for every image-only model."""

import numpy as np
import pytest
from test_num_levels import IMAGE_MODELS

import unigen
from unigen import _checks
from unigen.models import DCGAN, LAPGAN, BigGAN, Glow, ProGAN

# Registered names that model images only (the others also take vectors).
IMAGE_ONLY = ["biggan", "cyclegan", "glow", "lapgan", "pix2pix", "pixelcnn", "progan", "stargan"]
CLASS_NAMES = {"biggan": "BigGAN", "cyclegan": "CycleGAN", "glow": "Glow", "lapgan": "LAPGAN",
               "pix2pix": "Pix2Pix", "pixelcnn": "PixelCNN", "progan": "ProGAN",
               "stargan": "StarGAN"}


def test_image_shape_accepts_three_positive_sizes_and_prefers_event_shape():
    assert _checks.image_shape((28, 28, 1)) == (28, 28, 1)
    assert _checks.image_shape([8, 8, 3]) == (8, 8, 3)
    assert _checks.image_shape(np.array([4, 6, 1])) == (4, 6, 1)
    assert all(type(d) is int for d in _checks.image_shape(np.array([4, 6, 1])))
    assert _checks.image_shape((28, 28, 1), event_shape=(8, 8, 1)) == (8, 8, 1)


@pytest.mark.parametrize("bad, match", [
    ((28, 28), r"`image_shape` must be \(height, width, channels\), got \(28, 28\): for grey "
               r"images add the channel axis, \(28, 28, 1\)"),
    ((28, 28, 0), "positive ints"),
    ((2.5, 3, 1), "positive ints"),
    ((1, 2, 3, 4), r"must be \(height, width, channels\), got \(1, 2, 3, 4\)\.$"),
    ("abc", "of ints"),
    (None, "is required"),
])
def test_image_shape_names_the_problem_and_the_fix(bad, match):
    with pytest.raises(ValueError, match=match):
        _checks.image_shape(bad)


def test_the_message_names_the_argument_the_model_and_a_hint():
    with pytest.raises(ValueError, match=r"^Glow models images: `event_shape` must .* use X\.$"):
        _checks.image_shape(None, (8, 8), owner="Glow", hint="use X.")


@pytest.mark.parametrize("name", IMAGE_ONLY)
def test_every_image_only_model_refuses_a_shape_without_channels_naming_the_fix(name):
    assert name in unigen.models.available()
    _, kwargs = IMAGE_MODELS[name]
    with pytest.raises(ValueError, match=rf"^{CLASS_NAMES[name]} models images: .*\(8, 8, 1\)"):
        unigen.models.create(name, event_shape=(8, 8), **kwargs)


@pytest.mark.parametrize("cls", [DCGAN, BigGAN, LAPGAN, ProGAN, Glow])
def test_image_model_classes_check_image_shape_before_building_anything(cls):
    with pytest.raises(ValueError, match=r"positive ints, got \(8, 0, 1\)"):
        cls(image_shape=(8, 0, 1))
    with pytest.raises(ValueError, match=r"\(8, 8, 1\)"):
        cls(image_shape=(8, 8))


def test_what_unigen_models_says_each_name_trains_on_matches_these_lists():
    """`unigen.models.describe` (and so ``unigen models``) agrees with the lists tested above."""
    from test_num_levels import NON_IMAGE_MODELS

    sequences = {"sequence_lm", "gumbel_gan", "seqgan"}
    for name in unigen.models.available():
        family, data, likelihood = unigen.models.describe(name)
        assert "?" not in (family, data, likelihood), f"{name} has no description"
        assert ("image" in data) == (name in IMAGE_MODELS), (name, data)
        vectors = (set(IMAGE_MODELS) - set(IMAGE_ONLY)) | {"maf"}
        assert ("vectors" in data) == (name in vectors), (name, data)
        assert ("sequences" in data) == (name in sequences), (name, data)
        assert name in IMAGE_MODELS or name in NON_IMAGE_MODELS
    assert unigen.models.describe("Glow") == unigen.models.describe("glow")
    with pytest.raises(ValueError, match=r"Unknown model 'glwo'.*glow"):
        unigen.models.describe("glwo")
