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
    labels = []
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
                labels.append((row["name"] + (f" ({label})" if len(keys) > 1 and label
                                              else ""), x, y,
                               {"fontsize": 8, "color": color}))
                primary_x = x
            else:
                labels.append((label, x, y, {"fontsize": 7, "color": color}))
                ax.plot([primary_x, x], [y, y], ls=":", lw=0.8, color=color)
    if any(not math.isfinite(s[k].extra["bits_per_dim"]) for _, s in points
           for k in s if k.startswith("nll")):
        ax.axvline(edge, color="0.6", lw=0.8, ls="--")
        ax.text(edge, 1.0, " ∞", transform=ax.get_xaxis_transform(), va="top", fontsize=9)
    ax.set_xlim(low - pad, edge + 3 * pad)
    return labels


# offsets in points tried in turn, with the text's alignment
_OFFSETS = [(5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"),
            (-5, -4, "right", "top"), (0, 9, "center", "bottom"), (0, -9, "center", "top"),
            (5, 16, "left", "bottom"), (5, -16, "left", "top"), (-5, 16, "right", "bottom"),
            (-5, -16, "right", "top"), (12, 0, "left", "center"), (-12, 0, "right", "center")]


def place_labels(ax, labels):
    """Annotates points so that no two labels overlap where it can be helped.

    ``labels``: ``(text, x, y, text options)`` in data coordinates. Each label
    takes the first offset of `_OFFSETS` whose box overlaps neither a label
    placed before it nor a marker nor the axes' edge; failing that, the offset
    with the least overlap. Returns the text artists.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    markers = [ax.transData.transform((x, y)) for _, x, y, _ in labels]
    frame = ax.get_window_extent(renderer)
    placed, artists = [], []
    for text, x, y, options in labels:
        best = None
        for dx, dy, ha, va in _OFFSETS:
            artist = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy),
                                 ha=ha, va=va, **options)
            box = artist.get_window_extent(renderer).expanded(1.05, 1.15)
            cost = sum(_overlap(box, other) for other in placed)
            cost += sum(box.contains(px, py) for px, py in markers) * 20.0
            outside = box.width * box.height - _overlap(box, frame)
            cost += 2 * outside
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, artist, box)
            else:
                artist.remove()
            if cost == 0:
                break
        placed.append(best[2])
        artists.append(best[1])
    return artists


def _overlap(a, b):
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


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
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    ax = axes[0]
    labels = _likelihood_panel(ax, rows, quality)
    floor = next((r["scores"].get(quality) for r in rows if r["role"] == "floor"), None)
    if floor is not None:
        ax.axhline(max(floor.value, 1e-6), color="k", ls="--", lw=0.8,
                   label="real-vs-real floor")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_xlabel("test −log p (bits/dim), lower is better; open: other estimators")
    ax.set_ylabel(f"{quality.upper()} (lower is better)")
    if quality == "fid":
        ax.set_yscale("log")
        ax.margins(y=0.15)
    ax.set_title("likelihood vs sample quality")
    ax = axes[1]
    pr_labels = []
    for row in pr:
        s = row["scores"]
        ax.errorbar(s["recall"].value, s["precision"].value, xerr=s["recall"].stderr,
                    yerr=s["precision"].stderr, fmt="o", color=_COLORS[row["role"]])
        pr_labels.append((row["name"], s["recall"].value, s["precision"].value,
                          {"fontsize": 8, "color": _COLORS[row["role"]]}))
    ax.set_xlim(-0.05, 1.12)
    ax.set_ylim(-0.05, 1.1)
    ax.set_xlabel("recall (diversity)")
    ax.set_ylabel("precision (fidelity)")
    ax.set_title("precision vs recall (k=3)")
    fig.tight_layout()
    place_labels(axes[0], labels)
    place_labels(axes[1], pr_labels)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
