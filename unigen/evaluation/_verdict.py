"""The verdict of a comparison: plain sentences generated from its numbers.

`verdict` reads the rows of a `Report` (trained models, the real-data floor,
the reference models) and says which model has the best test likelihood
(with what its estimator can and cannot show), which is best on each sample
metric, which models are on the Pareto front of likelihood against FID (or
MMD for vectors), where the reference models sit and what each model's
training budget was. Every sentence comes from the numbers: nothing is
written for a model or metric that is absent.
"""

import math

from unigen._checks import plural

__all__ = ["pareto_front", "verdict"]

# metric -> (name in sentences, direction: "low", "high" or "half" (best at 0.5))
_METRICS = {
    "fid": ("FID", "low"), "kid": ("KID", "low"), "precision": ("precision", "high"),
    "recall": ("recall", "high"), "coverage": ("coverage", "high"),
    "inception_score": ("Inception Score", "high"), "mode_score": ("MODE score", "high"),
    "am_score": ("AM score", "low"), "c2st": ("C2ST accuracy", "half"),
    "mmd": ("MMD²", "low"), "copy_share": ("copy share", "low"),
    "modes": ("modes captured", "high"), "high_quality": ("high-quality share", "high"),
}
_CAVEAT = {
    "exact": "exact",
    "mixture": "exact given its base model",
    "dequantization": "a dequantization bound: its true −log p is lower",
    "variational": "a variational dequantization bound: its true −log p is lower",
    "importance": "an importance-weighted bound: its true −log p is lower in expectation",
    "ais": "an AIS estimate, a stochastic bound: its true −log p is lower in expectation",
    "parzen": "a Parzen-window estimate, not a bound: it can be far off either way",
    "model": "as given by the model's own log_prob",
}
_BOUNDS = {"dequantization", "variational", "importance", "ais"}


def _key(metric, value):
    """Sort key, smaller is better."""
    direction = _METRICS[metric][1]
    return {"low": value, "high": -value, "half": abs(value - 0.5)}[direction]


def _fmt(value):
    if value == math.inf:
        return "∞"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.1f}"


def _join(names):
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def pareto_front(points):
    """Names of the non-dominated points of ``{name: (a, b)}``, both lower-is-better.

    A point is dominated when another is at least as good on both axes and
    better on one. Returned in order of the first axis.
    """
    front = []
    for name, (a, b) in points.items():
        dominated = any(a2 <= a and b2 <= b and (a2 < a or b2 < b)
                        for other, (a2, b2) in points.items() if other != name)
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: points[n])


def _likelihood(models):
    rated = [(r["name"], r["scores"]["nll"]) for r in models if "nll" in r["scores"]]
    rated = [(n, s) for n, s in rated if not math.isnan(s.value)]
    if not rated:
        return []
    rated.sort(key=lambda item: item[1].value)
    name, best = rated[0]
    kind = best.extra.get("kind", "model")
    text = (f"Best test likelihood: {name}, {_fmt(best.value)} nats/example "
            f"({best.extra['bits_per_dim']:.3f} bits/dim), {_CAVEAT.get(kind, kind)}.")
    if len(rated) > 1:
        second_name, second = rated[1]
        gap = second.value - best.value
        both = math.hypot(best.stderr, second.stderr)
        if math.isfinite(both) and gap < 2 * both:
            text += (f" It is not clearly ahead of {second_name} ({_fmt(second.value)}): "
                     f"the gap, {gap:.2f} nats, is within two standard errors.")
        elif second.extra.get("kind") in _BOUNDS and kind not in _BOUNDS:
            text += (f" The runner-up, {second_name} ({_fmt(second.value)}), is scored by a "
                     f"bound, so its true likelihood may be closer.")
        elif kind in _BOUNDS:
            text += " Being a bound, the true value is if anything better, so the lead holds."
    return [text]


def _translation(models):
    """Best translation error (and cycle error, domain accuracy) of the translating models;
    like the likelihood's, a lead within two standard errors is said to be no lead."""
    rated = [r for r in models if "translation_error" in r["scores"]]
    if not rated:
        return []
    rated = sorted(rated, key=lambda r: r["scores"]["translation_error"].value)
    best = rated[0]
    score = best["scores"]["translation_error"]
    several = len(rated) > 1
    text = (f"{'Best translation error' if several else 'Translation error'}: "
            f"{best['name']}, {score.value:.3f} per pixel against the true targets (not "
            f"translating: {score.extra['identity_error']:.3f})")
    others = []
    for key, label, sign in (("cycle_error", "cycle error", 1),
                             ("domain_accuracy", "domain accuracy", -1)):
        having = [r for r in rated if key in r["scores"]]
        if having:
            top = min(having, key=lambda r: sign * r["scores"][key].value)
            value = f"{top['scores'][key].value:.3g}"
            others.append(f"best {label}: {top['name']}, {value}" if several
                          else f"{label} {value}")
    text += (f"; {'; '.join(others)}" if others else "") + "."
    if several:  # as for the likelihood: a lead within two standard errors is no lead
        second = rated[1]["scores"]["translation_error"]
        gap, both = second.value - score.value, math.hypot(score.stderr, second.stderr)
        if math.isfinite(both) and gap < 2 * both:
            text += (f" It is not clearly ahead of {rated[1]['name']} ({second.value:.3f}): "
                     f"the gap, {gap:.3f}, is within two standard errors.")
    return [text]


def _best_per_metric(models, metrics):
    best = {}
    for metric in metrics:
        rated = [(r["name"], r["scores"][metric].value) for r in models
                 if metric in r["scores"] and math.isfinite(r["scores"][metric].value)]
        if len(rated) < 2:
            continue
        name, value = min(rated, key=lambda item: _key(metric, item[1]))
        best.setdefault(name, []).append(f"{_METRICS[metric][0]} {_fmt(value)}")
    if not best:
        return []
    parts = [f"{name} ({', '.join(values)})" for name, values in
             sorted(best.items(), key=lambda item: -len(item[1]))]
    return ["Best samples, metric by metric: " + "; ".join(parts) + "."]


def _floor(rows, quality):
    floor = next((r for r in rows if r["role"] == "floor"), None)
    if floor is None or quality not in floor["scores"]:
        return []
    value = floor["scores"][quality].value
    models = [r for r in rows if r["role"] == "model" and quality in r["scores"]]
    if not models:
        return []
    best = min(models, key=lambda r: r["scores"][quality].value)
    ratio = best["scores"][quality].value / value if value > 0 else math.inf
    label = _METRICS[quality][0]
    text = (f"Real held-out data score {label} {_fmt(value)} (the floor); the best model, "
            f"{best['name']}, is at {_fmt(best['scores'][quality].value)}")
    text += (", close to it." if ratio < 2 else f", {ratio:.0f} times the floor."
             if math.isfinite(ratio) else ".")
    return [text]


def _front(models, quality):
    points = {r["name"]: (r["scores"]["nll"].value, r["scores"][quality].value)
              for r in models if "nll" in r["scores"] and quality in r["scores"]
              and not math.isnan(r["scores"]["nll"].value)}
    if len(points) < 2:
        return []
    label = _METRICS[quality][0]
    front = pareto_front(points)
    if len(front) == 1:
        return [f"Likelihood against {label}: {front[0]} is best on both, so it alone is "
                f"on the Pareto front."]
    return [f"Likelihood against {label}: the Pareto front is {_join(front)} (from best "
            f"likelihood to best {label}): each is better than the others on one axis, and "
            f"no model beats any of them on both."
            + (f" {_join(sorted(set(points) - set(front)))} "
               f"{'is' if len(points) - len(front) == 1 else 'are'} dominated."
               if len(front) < len(points) else "")]


def _rank(value, others, metric):
    better = sum(_key(metric, o) < _key(metric, value) for o in others)
    return better + 1


def _references(rows, quality):
    models = [r for r in rows if r["role"] == "model"]
    out = []
    for row in rows:
        if row["role"] != "reference":
            continue
        s, parts = row["scores"], []
        if "nll" in s and models:
            nlls = [r["scores"]["nll"].value for r in models if "nll" in r["scores"]]
            if nlls:
                rank = sum(v < s["nll"].value for v in nlls) + 1
                parts.append(f"likelihood {_fmt(s['nll'].value)} nats"
                             + (f" (Parzen {_fmt(s['nll_parzen'].value)})"
                                if "nll_parzen" in s else "")
                             + f", rank {rank} of {len(nlls) + 1} beside the trained models")
        if quality in s and models:
            values = [r["scores"][quality].value for r in models if quality in r["scores"]]
            if values:
                rank = _rank(s[quality].value, values, quality)
                parts.append(f"{_METRICS[quality][0]} {_fmt(s[quality].value)}, rank {rank} "
                             f"of {len(values) + 1}")
        if "copy_share" in s:
            parts.append(f"{s['copy_share'].value:.0%} of its samples are copies")
        if parts:
            out.append(f"{row['name']}: " + "; ".join(parts) + ".")
    if out:
        out[0] = "Where the reference models sit — " + out[0]
    return [" ".join(out)] if out else []


def _budget(models):
    parts = []
    for row in models:
        budget = row.get("training") or {}
        items = []
        if budget.get("epochs") is not None:
            items.append(plural(budget["epochs"], "epoch"))
        if budget.get("steps") is not None:
            items.append(plural(budget["steps"], "step"))
        seconds = budget.get("seconds", row.get("train_seconds"))
        if seconds is not None:
            items.append(f"{seconds:.0f} s")
        parts.append(f"{row['name']} " + (", ".join(items) if items else "budget not given"))
    if not any(row.get("training") or row.get("train_seconds") is not None for row in models):
        return []
    return ["Training budgets: " + "; ".join(parts) + ". Models trained for minutes are "
            "ranked at these budgets, not at convergence."]


def verdict(rows):
    """Sentences that answer "which model is best, and at what?".

    Args:
        rows: a `Report`'s rows (``name``, ``role`` in {"floor", "model",
            "reference"}, ``scores``; optional ``training`` dict with
            ``epochs``, ``steps``, ``seconds``).

    Returns:
        list of str, one paragraph each: best translation error (translation
        sets; whether its lead is within two standard errors), best likelihood
        (with the estimator's caveat), best on each sample metric, the floor, the
        Pareto front of likelihood against FID (MMD² for vectors), the
        reference models' places and the training budgets.
    """
    models = [r for r in rows if r["role"] == "model"]
    if not models:
        return []
    present = [m for m in _METRICS if any(m in r["scores"] for r in models)]
    quality = "fid" if "fid" in present else "mmd"
    return (_translation(models) + _likelihood(models) + _best_per_metric(models, present)
            + _floor(rows, quality)
            + _front(models, quality) + _references(rows, quality) + _budget(models))
