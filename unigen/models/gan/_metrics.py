"""Mode-coverage metrics of samples from a Gaussian mixture (VEEGAN / PacGAN).

Pure NumPy functions of samples, mode centres and the mixture's std, so that
evaluation code can reuse them. Definitions (Srivastava et al. 2017; Lin et al.
2018): a sample is of high quality when it lies within ``threshold`` (3)
standard deviations of its nearest mode (Euclidean distance); a mode is
captured when it is the nearest mode of at least one high-quality sample; the
reverse KL compares the histogram of the high-quality samples over the modes
with the uniform weights of the data, KL(histogram || uniform).

References:
    Srivastava et al. "VEEGAN: Reducing Mode Collapse in GANs using Implicit
    Variational Learning." NeurIPS 2017.
    Lin et al. "PacGAN: The power of two samples in generative adversarial
    networks." NeurIPS 2018.
"""

import numpy as np

__all__ = ["mode_histogram", "mode_statistics", "reverse_kl_to_uniform"]


def mode_histogram(samples, modes, mode_std, threshold=3.0):
    """Counts of high-quality samples per mode, and the high-quality mask.

    Args:
        samples: [n, d] array.
        modes: [m, d] array of mode centres.
        mode_std: the mixture components' standard deviation.
        threshold: a sample is high quality within ``threshold * mode_std`` of
            its nearest mode.

    Returns:
        ``(counts [m] int, high_quality [n] bool)``.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    modes = np.asarray(modes, dtype=np.float64)
    distances = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    high_quality = distances.min(axis=1) <= threshold * float(mode_std)
    counts = np.bincount(nearest[high_quality], minlength=len(modes))
    return counts, high_quality


def reverse_kl_to_uniform(counts):
    """KL(h || uniform) in nats for a histogram of counts; inf when empty."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return float("inf")
    share = counts / total
    nonzero = share > 0
    return float(np.sum(share[nonzero] * np.log(share[nonzero] * len(counts))))


def mode_statistics(samples, modes, mode_std, threshold=3.0):
    """Modes captured, share of high-quality samples and reverse KL.

    Returns:
        dict with ``modes_captured`` (int), ``num_modes``, ``high_quality``
        (fraction in [0, 1]) and ``reverse_kl`` (nats).
    """
    counts, high_quality = mode_histogram(samples, modes, mode_std, threshold)
    return {
        "modes_captured": int(np.count_nonzero(counts)),
        "num_modes": len(counts),
        "high_quality": float(np.mean(high_quality)),
        "reverse_kl": reverse_kl_to_uniform(counts),
    }
