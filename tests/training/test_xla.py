"""Every family trains under XLA (`jit_compile=True`).

Keras turns XLA on by itself only on GPUs, so on the CPU these runs are the
only ones that exercise the compiled path. Models whose training step draws no
noise give the losses they give without XLA, to 1e-5. TensorFlow's stateless
random ops produce other numbers inside XLA than outside it (for the same seed
and algorithm), so for noisy models (dequantization, reparameterisation, latent
noise) the two runs see different noise; for those the test checks that the
compiled run trains to finite losses of the same size.
"""

import numpy as np
import pytest

import unigen

DIGITS = unigen.datasets.as_numpy("digits", "train")[:256]
MOONS = unigen.datasets.as_numpy("moons", "train", num_examples=256)

NOISELESS = {"gaussian", "realnvp", "maf"}

CASES = {
    "gaussian": (lambda: unigen.models.Gaussian((8, 8, 1), num_levels=17), DIGITS),
    "glow": (lambda: unigen.models.Glow((8, 8, 1), num_levels=17, levels=1, steps_per_level=2,
                                        hidden_channels=8), DIGITS),
    "realnvp": (lambda: unigen.models.RealNVP((2,), num_couplings=2, hidden=8), MOONS),
    "maf": (lambda: unigen.models.MAF((2,), num_layers=2, hidden_units=(8,)), MOONS),
    "vae": (lambda: unigen.models.VAE((8, 8, 1), num_levels=17, latent_dim=2), DIGITS),
    "gan": (lambda: unigen.models.MLPGAN((2,), latent_dim=2, hidden_units=(8,)), MOONS),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_jit_compile_gives_the_same_losses(name):
    factory, data = CASES[name]
    losses = {}
    for jit in (False, True):
        history = unigen.fit(factory, data, epochs=1, batch_size=64, seed=0,
                             jit_compile=jit, verbose=0)
        losses[jit] = {k: np.asarray(v) for k, v in history.history.items()}
    assert losses[True].keys() == losses[False].keys()
    # Noisy models: the same size, to 25% (absolutely for terms near 0, such as a KL).
    tolerance = 1e-5 if name in NOISELESS else 0.25
    for key, value in losses[False].items():
        assert np.all(np.isfinite(losses[True][key])), key
        np.testing.assert_allclose(losses[True][key], value, rtol=tolerance,
                                   atol=1e-5 if name in NOISELESS else 0.25, err_msg=key)
