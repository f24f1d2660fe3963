"""The one ``num_levels`` rule, walked over every registered model.

Rule (`unigen._checks.resolve_num_levels`): the default ``"auto"`` is 256 levels
(8-bit images) for an image event and continuous data (None) for vectors; None
means continuous data where the family has a density for it; families of
discrete data refuse None, families of real vectors refuse an int; data that do
not fit the levels are refused naming ``num_levels`` and the fix.
"""

import re

import numpy as np
import pytest

import unigen
from unigen._checks import IMAGE_LEVELS
from unigen.errors import DataError

# Tiny image constructor arguments of every registered name that models images.
IMAGE_MODELS = {
    "gaussian": ((8, 8, 1), {}),
    "gan": ((8, 8, 1), {"latent_dim": 2, "base_filters": 2}),
    "dcgan": ((8, 8, 1), {"latent_dim": 2, "base_filters": 2}),
    "glow": ((8, 8, 1), {"levels": 1, "steps_per_level": 1, "hidden_channels": 2}),
    "realnvp": ((8, 8, 1), {"levels": 1, "steps_per_level": 1, "hidden": 2}),
    "vae": ((8, 8, 1), {"latent_dim": 2}),
    "flow_gan": ((8, 8, 1), {"levels": 1, "steps_per_level": 1, "hidden_channels": 2,
                             "discriminator_units": 2}),
    "pixelcnn": ((8, 8, 1), {"filters": 2, "num_blocks": 1, "head_units": 2}),
    "made": ((8, 8, 1), {"hidden_units": (4,)}),
    "cyclegan": ((8, 8, 2), {"filters": 2, "residual_blocks": 1, "critic_filters": 2}),
    "stargan": ((8, 8, 1), {"num_domains": 2, "filters": 2, "residual_blocks": 1,
                            "critic_filters": 2}),
    "pix2pix": ((8, 8, 2), {"filters": 2, "residual_blocks": 1, "critic_filters": 2}),
    "biggan": ((8, 8, 1), {"latent_dim": 3, "base_filters": 2, "attention": False}),
    "progan": ((8, 8, 1), {"latent_dim": 2, "base_filters": 2}),
    "lapgan": ((8, 8, 1), {"latent_dim": 2, "filters": 2, "coarse_units": 2}),
    "ddpm": ((8, 8, 1), {"num_timesteps": 4, "architecture": "mlp", "hidden_units": (4,)}),
}
# Registered names that take no images: vectors or token sequences.
NON_IMAGE_MODELS = {"maf", "sequence_lm", "gumbel_gan", "seqgan"}
# Families that need discrete levels: num_levels=None is refused.
DISCRETE_ONLY = {"pixelcnn", "made"}


def test_every_registered_name_is_classified():
    assert set(unigen.models.available()) == set(IMAGE_MODELS) | NON_IMAGE_MODELS


@pytest.mark.parametrize("name", sorted(IMAGE_MODELS))
def test_image_models_follow_the_rule(name):
    shape, kwargs = IMAGE_MODELS[name]
    model = unigen.models.create(name, event_shape=shape, **kwargs)
    assert model.num_levels == IMAGE_LEVELS == 256
    levels = np.random.default_rng(0).integers(0, 256, (4, *shape)).astype("uint8")
    model.validate_data(levels)
    with pytest.raises(DataError, match="num_levels=None"):  # floats in [0, 1]
        model.validate_data(levels / 255.0)
    if name in DISCRETE_ONLY:
        with pytest.raises(ValueError, match="needs `num_levels`"):
            unigen.models.create(name, event_shape=shape, num_levels=None, **kwargs)
        return
    continuous = unigen.models.create(name, event_shape=shape, num_levels=None, **kwargs)
    assert continuous.num_levels is None
    continuous.validate_data(levels / 255.0)
    with pytest.raises(DataError, match="num_levels=256"):  # 8-bit levels, continuous model
        continuous.validate_data(levels)
    # A saved config keeps the resolved levels.
    assert model.get_config().get("num_levels", IMAGE_LEVELS) == IMAGE_LEVELS


def test_vectors_default_to_continuous_data_and_bad_values_are_refused():
    assert unigen.models.MLPGAN(event_shape=(2,)).num_levels is None
    assert unigen.models.MAF((2,), num_layers=1, hidden_units=(4,)).num_levels is None
    assert unigen.models.Gaussian((2,)).num_levels is None
    assert unigen.models.VAE((2,), latent_dim=1).num_levels is None
    with pytest.raises(ValueError, match="pass num_levels=None"):
        unigen.models.MLPGAN(event_shape=(2,), num_levels=17)
    with pytest.raises(ValueError, match="needs `num_levels` for data of shape"):
        unigen.models.CategoricalMADE((4,))
    with pytest.raises(ValueError, match="vocabulary size"):
        unigen.models.SequenceModel((4,))
    for bad in ("eight", 1, 2.5):
        with pytest.raises(ValueError, match="num_levels"):
            unigen.models.Gaussian((2,), num_levels=bad)


def test_log_prob_names_the_mismatch():
    model = unigen.models.Gaussian((8, 8, 1))
    x = np.full((2, 8, 8, 1), 0.5, "float32")
    with pytest.raises(DataError, match=r"scaled to.*num_levels=None"):
        model.log_prob(x)
    assert np.all(np.isfinite(unigen.models.Gaussian((8, 8, 1), num_levels=None).log_prob(x)))


def test_discrete_only_models_send_continuous_vectors_to_models_that_train_on_them():
    with pytest.raises(ValueError) as pixelcnn:
        unigen.models.create("pixelcnn", "moons")  # continuous 2-d vectors
    with pytest.raises(ValueError) as made:
        unigen.models.CategoricalMADE((2,), num_levels=None)
    assert "CategoricalMADE" not in str(pixelcnn.value)
    with pytest.raises(ValueError, match=r"vectors of integer levels use .*CategoricalMADE"):
        unigen.models.PixelCNN((2,), num_levels=5)
    # Every model the messages name (`unigen train --model a|b|c`) trains on continuous
    # vectors (one step each).
    named = [re.search(r"--model ([\w|]+)", str(err.value)) for err in (pixelcnn, made)]
    assert all(named), (str(pixelcnn.value), str(made.value))
    names = named[0].group(1).split("|")
    assert named[1].group(1).split("|") == names and len(names) >= 2
    tiny = {"maf": {"num_layers": 1, "hidden_units": (4,)},
            "realnvp": {"num_couplings": 2, "hidden": 4}}
    x = unigen.datasets.as_numpy("moons", "validation")[:32]
    for name in names:
        model = unigen.models.create(name, "moons", **tiny.get(name, {}))
        history = unigen.fit(model, x, epochs=1, batch_size=32, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
        assert np.all(np.isfinite(model.log_prob(x[:4])))
