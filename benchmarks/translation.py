"""Translation with a known answer: CycleGAN, StarGAN and pix2pix on transformed digits.

    python benchmarks/translation.py [--quick] [--figures]
    python benchmarks/translation.py --data fashion_mnist [--pair inverted]
        [--train-images 2000] [--epochs 5] [--figures]

Every model is trained on the 8x8 digits translation sets of `unigen.datasets`,
whose true translations are held back (`unigen.datasets.true_targets`), and
scored on the test split:

* CycleGAN, unpaired, on ``digits_inverted`` (a: digits, b: inverted digits of
  OTHER source images; 500 training pairs), without the identity term (which
  contradicts an inversion: it asks G(b) = b) and with the paper's weight 5;
* StarGAN, unpaired, on ``digits_domains`` (4 domains: original, inverted,
  rotated 90 degrees, thickened; 1,000 training images, each in one domain)
  and on its two domains original / inverted only (500 images);
* pix2pix, paired, on ``digits_inverted_paired`` (1,000 true pairs): the upper
  bound of what paired supervision gives.

Reported: the per-pixel error (mean |translated - true| in units of the pixel
range, 0 = exact) on the test split, the cycle error (back to the source), the
error of not translating at all (the baseline), and the accuracy with which a
small CNN trained on ``digits_domains`` (real images, 4 domains) classifies the
translated images into their target domain (its own test accuracy on real
images is given too), each with its standard error over the test images
(``*_stderr``), all from `unigen.models.translation.translation_scores`.
Writes benchmarks/results/translation.json; --figures writes input |
translated | true target grids to docs/_static/translation/ (with --quick:
runs/benchmarks/translation_quick.json and runs/benchmarks/translation/, so a
check that it runs leaves the committed results as they are).

With ``--data fashion_mnist`` the same CycleGAN and pix2pix runs use the 28x28
Fashion-MNIST sets ``fashion_mnist_<pair>`` / ``fashion_mnist_<pair>_paired``
(the first ``--train-images`` training examples, scored on the first
``--test-images`` test examples; StarGAN is left out, and the identity-weight
run unless named in ``--only``) and the domain classifier is trained on the
first 4,000 images of ``fashion_mnist_domains`` (2 epochs); results go to
``translation_fashion_mnist.json`` and figures to ``fashion_mnist_*.png``.

Time on the shared 2-core machine: 87 s at low load, about 6 minutes loaded (--quick: about 2).
"""

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

LEVELS = 17


def domain_classifier(epochs, base="digits", train_images=None):
    """A small CNN on the 4 domains of <base>_domains.

    Returns (its scores over the domains as a function of images in levels, the
    `classifier=` of `translation_scores`; its test accuracy on real images).
    """
    import keras
    import numpy as np

    import unigen

    info = unigen.datasets.info(f"{base}_domains")
    x, y = unigen.datasets.as_numpy(f"{base}_domains", "train", with_labels=True,
                                    num_examples=train_images)
    xt, yt = unigen.datasets.as_numpy(f"{base}_domains", "test", with_labels=True)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([
        keras.Input(info.event_shape), keras.layers.Rescaling(1.0 / (info.num_levels - 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(4)])
    net.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
    net.fit(x.astype("float32"), y, epochs=epochs, batch_size=32, verbose=0)

    def classifier(images):
        return net.predict(np.asarray(images, "float32"), verbose=0)

    return classifier, float(np.mean(np.argmax(classifier(xt), -1) == yt))


def train(model, data, epochs, batch_size=32, learning_rate=2e-4):
    import unigen

    start = time.time()
    unigen.fit(model, data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
               seed=0, verbose=0)
    return time.time() - start


def pair_grid(model, dataset, direction, path):
    import numpy as np

    import unigen
    from unigen import images

    x = unigen.datasets.as_numpy(dataset, "test")[:8]
    truth = unigen.datasets.true_targets(dataset, "test")[:8]
    c = x.shape[-1] // 2
    source = x[..., :c] if direction == "a_to_b" else x[..., c:]
    target = truth[..., :c] if direction == "a_to_b" else truth[..., c:]
    rows = np.concatenate([source, np.asarray(model.translate(source, direction)), target])
    levels = unigen.datasets.info(dataset).num_levels
    images.save_png(path, images.make_grid(rows, num_levels=levels, columns=8),
                    scale=max(1, 64 // x.shape[1]))


def run_cyclegan(args, classifier, identity_weight):
    import unigen
    from unigen.models import CycleGAN
    from unigen.models.translation import translation_scores

    unpaired = f"{args.data}_{args.pair}"
    info = unigen.datasets.info(unpaired)
    model = CycleGAN(info.event_shape, info.num_levels, filters=16, residual_blocks=2,
                     critic_filters=16, divergence=args.cyclegan_divergence,
                     identity_weight=identity_weight)
    seconds = train(model, unigen.datasets.as_numpy(unpaired, "train",
                                                    num_examples=args.train_images),
                    args.epochs)
    scores = translation_scores(model, unpaired, "test", num_examples=args.test_images,
                               classifier=classifier)
    scores.update(seconds=seconds, epochs=args.epochs, divergence=args.cyclegan_divergence,
                  identity_weight=identity_weight, train_examples=args.train_images)
    if args.figures and identity_weight == 0:
        pair_grid(model, unpaired, "a_to_b", args.figure("cyclegan_a_to_b.png"))
        pair_grid(model, unpaired, "b_to_a", args.figure("cyclegan_b_to_a.png"))
    return scores


def run_pix2pix(args, classifier):
    import unigen
    from unigen.models import Pix2Pix
    from unigen.models.translation import translation_scores

    unpaired = f"{args.data}_{args.pair}"
    info = unigen.datasets.info(unpaired)
    model = Pix2Pix(info.event_shape, info.num_levels, filters=16, residual_blocks=2,
                    critic_filters=16)
    seconds = train(model, unigen.datasets.as_numpy(f"{unpaired}_paired", "train",
                                                    num_examples=args.train_images),
                    args.epochs)
    # Scored on the unpaired test split's domain-a images: the same true mapping.
    scores = translation_scores(model, unpaired, "test", num_examples=args.test_images,
                               classifier=classifier)
    scores.update(seconds=seconds, epochs=args.epochs, train_examples=args.train_images)
    if args.figures:
        pair_grid(model, unpaired, "a_to_b", args.figure("pix2pix_a_to_b.png"))
    return scores


def stargan_grids(model, domains, figure):
    """Input | translated | true target grids of the first 8 test images into each domain."""
    import numpy as np

    import unigen
    from unigen import images

    x, y = unigen.datasets.as_numpy("digits_domains", "test", with_labels=True)
    truth = unigen.datasets.true_targets("digits_domains", "test")
    for j, domain in enumerate(domains):
        other = np.flatnonzero(np.isin(y, domains) & (y != domain))[:8]
        rows = np.concatenate([x[other], np.asarray(model.translate(x[other], j)),
                               truth[other, domain]])
        name = unigen.datasets.DOMAINS[domain]
        images.save_png(figure(f"stargan{len(domains)}_to_{name}.png"),
                        images.make_grid(rows, num_levels=LEVELS, columns=8), scale=8)


def run_stargan(args, classifier, domains):
    import numpy as np

    import unigen
    from unigen.models import StarGAN
    from unigen.models.translation import translation_scores

    x, y = unigen.datasets.as_numpy("digits_domains", "train", with_labels=True)
    keep = np.isin(y, domains)
    model = StarGAN((8, 8, 1), LEVELS, num_domains=len(domains), filters=16,
                    residual_blocks=2, critic_filters=16, critic_steps=args.critic_steps)
    relabel = np.searchsorted(domains, y[keep]).astype("int32")
    seconds = train(model, (x[keep], relabel), args.epochs, learning_rate=1e-4)
    # Model domain j is digits_domains' domain domains[j]: the test images of these
    # domains, each into the others of them.
    scores = translation_scores(model, "digits_domains", "test", num_examples=args.test_images,
                                classifier=classifier, domains=domains)
    if args.figures:
        stargan_grids(model, domains, args.figure)
    scores["error_per_target_domain"] = scores.pop("error_per_domain")
    scores["error_per_target_domain_stderr"] = scores.pop("error_per_domain_stderr")
    return {"domains": [unigen.datasets.DOMAINS[d] for d in domains], **scores,
            "seconds": seconds, "epochs": args.epochs, "critic_steps": args.critic_steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs: a check that it runs")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--critic-steps", type=int, default=2)
    parser.add_argument("--cyclegan-divergence", default="pearson")
    parser.add_argument("--figures", action="store_true")
    parser.add_argument("--data", default="digits", choices=["digits", "fashion_mnist"])
    parser.add_argument("--pair", default="inverted", choices=["inverted", "rotated",
                                                                "thickened"],
                        help="the domain b of CycleGAN / pix2pix (a: original)")
    parser.add_argument("--train-images", type=int, default=None,
                        help="first N training examples (default: all for digits, "
                             "2,000 for fashion_mnist)")
    parser.add_argument("--test-images", type=int, default=None,
                        help="first N test examples to score (default: all)")
    parser.add_argument("--only", default=None,
                        help="comma-separated runs to (re)do, merged into an existing JSON")
    parser.add_argument("--out", default=None,
                        help="default benchmarks/results/translation[_fashion_mnist].json "
                             "(--quick: runs/benchmarks/translation[_fashion_mnist]_quick.json)")
    args = parser.parse_args()
    from benchmarks import write_result

    fashion = args.data == "fashion_mnist"
    if fashion and args.train_images is None:
        args.train_images = 2000
    args.epochs = args.epochs or (3 if args.quick else (5 if fashion else 40))
    # --quick checks that the script runs: it leaves the committed results and figures be.
    results_dir = os.path.join(ROOT, *(("runs", "benchmarks") if args.quick else
                                       ("benchmarks", "results")))
    name = "translation" + ("_fashion_mnist" if fashion else "") + ("_quick" if args.quick else "")
    args.out = args.out or os.path.join(results_dir, name + ".json")
    folder = os.path.join(ROOT, *(("runs", "benchmarks", "translation") if args.quick else
                                  ("docs", "_static", "translation")))
    prefix = "fashion_mnist_" if fashion else ""
    args.figure = lambda name: os.path.join(folder, prefix + name)
    if args.figures:
        os.makedirs(folder, exist_ok=True)

    start = time.time()
    classifier, classifier_accuracy = domain_classifier(
        5 if args.quick else (2 if fashion else 15), args.data,
        train_images=4000 if fashion else None)
    print(f"domain classifier: test accuracy {classifier_accuracy:.3f} on real images",
          flush=True)
    results = {"command": " ".join(["python", "benchmarks/translation.py", *sys.argv[1:]]),
               "classifier_test_accuracy": classifier_accuracy,
               "data": args.data, "pair": args.pair}
    only = None if args.only is None else set(args.only.split(","))
    if fashion:  # StarGAN is digits-only here
        only = (only or {"cyclegan", "pix2pix"}) - {
            "stargan_2", "stargan_4"}
    for key, run in (("cyclegan", lambda: run_cyclegan(args, classifier, 0.0)),
                     ("cyclegan_identity_5", lambda: run_cyclegan(args, classifier, 5.0)),
                     ("pix2pix", lambda: run_pix2pix(args, classifier)),
                     ("stargan_2", lambda: run_stargan(args, classifier, [0, 1])),
                     ("stargan_4", lambda: run_stargan(args, classifier, [0, 1, 2, 3]))):
        if only is not None and key not in only:
            continue
        results[key] = run()
        print(key, json.dumps(results[key]), flush=True)
    results["total_seconds"] = time.time() - start
    results["load_average_at_end"] = list(os.getloadavg())
    print(f"total {results['total_seconds']:.0f} s")
    # --only reruns some entries: the others stay as they are in the file.
    write_result(name, results, out=args.out, merge=bool(args.only))


if __name__ == "__main__":
    main()
