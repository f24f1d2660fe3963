"""The report's figure: likelihood against sample quality, precision against recall."""

import math

__all__ = ["save_plot"]

_COLORS = {"model": "C0", "reference": "C3", "floor": "k"}


def _likelihood_panel(ax, rows, quality):
    """Each model at (bits/dim of "nll", quality); other estimators as open markers
    on the same line; an infinite NLL at the right edge, marked and labelled."""
    points = [(r, r["scores"]) for r in rows if "nll" in r["scores"] and quality in r["scores"]]
    finite = [s[k].extra["bits_per_dim"] for _, s in points for k in s
              if k.startswith("nll") and math.isfinite(s[k].extra["bits_per_dim"])]
    if not finite:
        finite = [0.0, 1.0]
    low, high = min(finite), max(finite)
    pad = 0.08 * (high - low or 1.0)
    edge = high + 2 * pad  # where infinite NLLs are drawn
    for row, s in points:
        color, y = _COLORS[row["role"]], s[quality].value
        keys = sorted((k for k in s if k.startswith("nll")), key=lambda k: k != "nll")
        for key in keys:
            bits = s[key].extra["bits_per_dim"]
            primary = key == "nll"
            label = s[key].extra.get("short", "")
            if math.isfinite(bits):
                err = s[key].extra["bits_per_dim_stderr"]
                ax.errorbar(bits, y, xerr=err if math.isfinite(err) else None,
                            yerr=s[quality].stderr if primary else None, fmt="o",
                            color=color, mfc=color if primary else "none")
                x = bits
            else:
                ax.plot(edge, y, marker=">", ms=9, color=color,
                        mfc=color if primary else "none")
                label = f"{label} ∞".strip()
                x = edge
            if primary:
                ax.annotate(row["name"] + (f" ({label})" if len(keys) > 1 and label else ""),
                            (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
                primary_x = x
            else:
                ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, -10),
                            fontsize=7, color=color)
                ax.plot([primary_x, x], [y, y], ls=":", lw=0.8, color=color)
    if any(not math.isfinite(s[k].extra["bits_per_dim"]) for _, s in points
           for k in s if k.startswith("nll")):
        ax.axvline(edge, color="0.6", lw=0.8, ls="--")
        ax.text(edge, 1.0, " ∞", transform=ax.get_xaxis_transform(), va="top", fontsize=9)
    ax.set_xlim(low - pad, edge + 3 * pad)


def save_plot(rows, path):
    """Writes the two-panel figure of a report's ``rows``; False if nothing to plot.

    Left: test −log p (bits/dim) against FID (images) or MMD² (vectors), filled
    markers for the reported estimate, open markers joined by a dotted line for
    a model's other estimators (AIS, Parzen); infinite values (the memoriser's
    exact NLL) sit on a dashed line at the right edge, marked ∞. Right:
    precision against recall.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = "fid" if any("fid" in r["scores"] for r in rows) else "mmd"
    has_points = any("nll" in r["scores"] and quality in r["scores"] for r in rows)
    pr = [r for r in rows if "precision" in r["scores"]]
    if not has_points and not pr:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    ax = axes[0]
    _likelihood_panel(ax, rows, quality)
    floor = next((r["scores"].get(quality) for r in rows if r["role"] == "floor"), None)
    if floor is not None:
        ax.axhline(max(floor.value, 1e-6), color="k", ls="--", lw=0.8,
                   label="real-vs-real floor")
        ax.legend(fontsize=8)
    ax.set_xlabel("test −log p (bits/dim), lower is better; open: other estimators")
    ax.set_ylabel(f"{quality.upper()} (lower is better)")
    if quality == "fid":
        ax.set_yscale("log")
    ax.set_title("likelihood vs sample quality")
    ax = axes[1]
    for row in pr:
        s = row["scores"]
        ax.errorbar(s["recall"].value, s["precision"].value, xerr=s["recall"].stderr,
                    yerr=s["precision"].stderr, fmt="o", color=_COLORS[row["role"]])
        ax.annotate(row["name"], (s["recall"].value, s["precision"].value),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("recall (diversity)")
    ax.set_ylabel("precision (fidelity)")
    ax.set_title("precision vs recall (k=3)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
