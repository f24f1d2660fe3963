"""Every model configuration the contract tests cover, built through the registry.

Shared by `tests/models/test_model_contract.py` and its subprocess job
`tests/models/jobs_contract.py`. A name registered in `unigen.models` without an
entry here fails `test_every_registered_model_is_covered`.
"""

import numpy as np

import unigen

VECTOR = {"event_shape": (2,), "num_levels": None}
IMAGE = {"event_shape": (8, 8, 1), "num_levels": 17}
PAIRS = {"event_shape": (8, 8, 2), "num_levels": 17}  # two domains on the channel axis
SEQUENCE = {"event_shape": (4,), "num_levels": 10}  # the oracle chain, 4 tokens (fast traces)
_TINY_SEQ = {"embedding_dim": 4, "hidden_units": 8}

# name -> (registry name, data kind, constructor arguments)
CONFIGS = {
    "gaussian": ("gaussian", IMAGE, {}),
    "gan_js": ("gan", VECTOR, {"latent_dim": 2, "hidden_units": (8,)}),
    "gan_wgan_gp": ("gan", VECTOR, {"latent_dim": 2, "hidden_units": (8,),
                                    "divergence": "wasserstein", "gradient_penalty": 1.0}),
    "gan_hinge_sn": ("gan", VECTOR, {"latent_dim": 2, "hidden_units": (8,),
                                     "divergence": "hinge", "spectral_norm": True}),
    "gan_mmd": ("gan", VECTOR, {"latent_dim": 2, "hidden_units": (8,), "divergence": "mmd"}),
    "dcgan": ("dcgan", IMAGE, {"latent_dim": 4, "base_filters": 4}),
    "dcgan_conditional": ("dcgan", IMAGE, {"latent_dim": 4, "base_filters": 4,
                                           "num_classes": 10, "conditioning": "projection",
                                           "auxiliary_classifier_weight": 0.5}),
    "glow": ("glow", IMAGE, {"levels": 1, "steps_per_level": 1, "hidden_channels": 4}),
    "realnvp": ("realnvp", VECTOR, {"num_couplings": 2, "hidden": 8}),
    "maf": ("maf", VECTOR, {"num_layers": 1, "hidden_units": (8,)}),
    "vae_kl": ("vae", VECTOR, {"latent_dim": 2}),
    "vae_iwae": ("vae", VECTOR, {"latent_dim": 2, "iwae_samples": 3}),
    "vae_mmd": ("vae", VECTOR, {"latent_dim": 2, "divergence": "mmd"}),
    "vae_adversarial": ("vae", VECTOR, {"latent_dim": 2, "divergence": "js"}),
    "vae_conditional": ("vae", IMAGE, {"latent_dim": 2, "num_classes": 10}),
    "flow_gan": ("flow_gan", VECTOR, {"num_couplings": 2, "hidden": 8,
                                      "discriminator_units": 8}),
    "pixelcnn": ("pixelcnn", IMAGE, {"filters": 4, "num_blocks": 2, "head_units": 8}),
    "made": ("made", IMAGE, {"hidden_units": (16,)}),
    "cyclegan": ("cyclegan", PAIRS, {"filters": 2, "residual_blocks": 1, "critic_filters": 2,
                                     "pool_size": 8, "identity_weight": 0.0}),
    "stargan": ("stargan", IMAGE, {"num_domains": 4, "filters": 2, "residual_blocks": 1,
                                   "critic_filters": 2, "critic_steps": 1}),
    "pix2pix": ("pix2pix", PAIRS, {"filters": 2, "residual_blocks": 1, "critic_filters": 2}),
    "sequence_lm": ("sequence_lm", SEQUENCE, _TINY_SEQ),
    "gumbel_gan": ("gumbel_gan", SEQUENCE, {**_TINY_SEQ, "critic_filters": 4,
                                            "pretrain_steps": 0}),
    "seqgan": ("seqgan", SEQUENCE, {**_TINY_SEQ, "critic_filters": 4, "pretrain_steps": 1}),
    "biggan": ("biggan", IMAGE, {"latent_dim": 3, "base_filters": 2, "embedding_dim": 2,
                                 "num_classes": 10, "attention": False}),
    "progan": ("progan", IMAGE, {"latent_dim": 4, "base_filters": 2, "phase_steps": 1,
                                 "fade_steps": 1}),
    "lapgan": ("lapgan", IMAGE, {"latent_dim": 2, "filters": 2, "coarse_units": 4}),
    "ddpm": ("ddpm", IMAGE, {"num_timesteps": 4, "channels": 4, "channel_multipliers": (1,)}),
    "ddpm_vlb_learned": ("ddpm", VECTOR, {"num_timesteps": 10, "hidden_units": (8,),
                                          "loss": "vlb", "variance": "learned"}),
    "ddpm_conditional": ("ddpm", IMAGE, {"num_timesteps": 10, "architecture": "mlp",
                                         "hidden_units": (8,), "num_classes": 10}),
    # Two options that see the whole batch: batch norm in the critic (global statistics)
    # and minibatch discrimination (every replica's examples).
    "dcgan_batch_norm_minibatch": ("dcgan", IMAGE, {"latent_dim": 4, "base_filters": 4,
                                                    "discriminator_batch_norm": True,
                                                    "minibatch_discrimination": 2}),
}

# Configurations trained on another dataset than digits / ring8: its x, or (x, y)
# when the dataset has labels (a multi-domain set's y is the domain).
DATASETS = {"cyclegan": "digits_inverted", "stargan": "digits_domains",
            "pix2pix": "digits_inverted_paired"}

ADVERSARIAL = ["gan_js", "gan_wgan_gp", "gan_hinge_sn", "dcgan", "dcgan_conditional",
               "vae_adversarial", "flow_gan", "gumbel_gan", "seqgan", "biggan", "progan",
               "lapgan"]


def build(name, **overrides):
    """The model of configuration ``name``, through `unigen.models.create`."""
    registered, shapes, kwargs = CONFIGS[name]
    return unigen.models.create(registered, **shapes, **{**kwargs, **overrides})


def data(name, count=64):
    """Training data for ``name``: x, or (x, y) for a conditional model."""
    _, shapes, kwargs = CONFIGS[name]
    if name in DATASETS:
        labelled = unigen.datasets.info(DATASETS[name]).num_classes is not None
        arrays = unigen.datasets.as_numpy(DATASETS[name], "train", with_labels=labelled)
        return tuple(np.asarray(a[:count]) for a in arrays) if labelled else arrays[:count]
    if shapes is SEQUENCE:
        return unigen.datasets.oracle(length=4).sample(count, seed=0)
    if shapes is VECTOR:
        x = unigen.datasets.as_numpy("ring8", "train")[:count]
        x = x[0] if isinstance(x, tuple) else x
        return np.asarray(x, np.float32)
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    x, y = np.asarray(x[:count]), np.asarray(y[:count])
    return (x, y) if kwargs.get("num_classes") else x


def features(batch):
    """The x of a batch that may be (x, y)."""
    return batch[0] if isinstance(batch, tuple) else batch


def options(model, method):
    """Deterministic options for ``model.log_prob`` / ``sample``: a seed and few draws."""
    from unigen.base import _hook_options

    hook = model._log_prob if method == "log_prob" else model._sample
    accepted = _hook_options(hook)
    chosen = {}
    if "seed" in accepted and method == "log_prob":
        chosen["seed"] = 0
    if "num_samples" in accepted and method == "log_prob":
        chosen["num_samples"] = 4
    return chosen
