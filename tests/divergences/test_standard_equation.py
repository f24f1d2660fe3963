"""Hu's "standard equation" on a finite support, solved in closed form and checked.

The lecture (Hu, "Deep generative modeling", slide "Standard Equation and
GANs") writes learning as

    min_{q, theta}  -alpha H(q) + beta D(q, p_theta) - E_q[f],

with f_data(x) = log E_{x* ~ data}[1_{x*}(x)] (the log of the empirical
distribution) for maximum likelihood. `standard_equation_solution` solves the
inner minimisation over q when D is KL(q || p_theta). The tests check it
against L-BFGS over the simplex (softmax logits, autodiff gradients) and
against sampled points of the simplex, and in the special cases: Bayes' rule
(alpha = 0, beta = 1, f a log-likelihood), maximum entropy (beta = 0), and
f_data, where alpha = 1, beta -> 0 gives q = the empirical distribution and
the outer problem over theta becomes maximum likelihood.

The solver is a test-level reference, not unigen API: no model trains through
it.
"""

import numpy as np
import pytest
import tensorflow as tf
from scipy import optimize
from scipy.special import logsumexp


def standard_equation_objective(q, log_p, f, alpha, beta):
    """L(q) = -alpha H(q) + beta KL(q || p) - E_q f on a finite support (0 log 0 = 0)."""
    q = np.asarray(q, dtype=np.float64)
    support = q > 0
    q_s = q[support]
    neg_entropy = np.sum(q_s * np.log(q_s))
    kl = np.sum(q_s * (np.log(q_s) - log_p[support]))
    return float(alpha * neg_entropy + beta * kl - np.sum(q_s * f[support]))


def standard_equation_solution(log_p, f, alpha, beta):
    """The minimiser over q of Hu's standard equation with D = KL, on a finite support.

    On points x = 1..K, with p = p_theta and alpha, beta >= 0, alpha + beta > 0,

        L(q) = -alpha H(q) + beta KL(q || p) - E_q f
             = (alpha + beta) sum_x q(x) log q(x) - sum_x q(x) (beta log p(x) + f(x)).

    L is strictly convex on the simplex. Setting its derivative,
    (alpha + beta)(log q(x) + 1) - beta log p(x) - f(x), equal to a Lagrange
    multiplier for sum_x q(x) = 1 gives the tempered Gibbs form

        q*(x) = p(x)^(beta / (alpha + beta)) exp(f(x) / (alpha + beta)) / Z,
        Z = sum_x p(x)^(beta / (alpha + beta)) exp(f(x) / (alpha + beta)),

    and, substituting back, the minimum L(q*) = -(alpha + beta) log Z.
    f may be -inf (f_data off the data): q* is 0 there.

    Args:
        log_p: [K] log p_theta(x).
        f: [K] f(x), finite or -inf.
        alpha, beta: the weights of -H(q) and of KL(q || p_theta).

    Returns:
        ``(log_q [K], minimum)``.
    """
    if alpha < 0 or beta < 0 or alpha + beta <= 0:
        raise ValueError(f"need alpha, beta >= 0 and alpha + beta > 0, got {alpha}, {beta}.")
    log_p = np.asarray(log_p, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # 0 * (-inf) where beta = 0 and p = 0
        logits = (np.where(beta > 0, beta * log_p, 0.0) + f) / (alpha + beta)
    log_z = logsumexp(logits)
    return logits - log_z, float(-(alpha + beta) * log_z)


def _random_case(rng, k):
    log_p = np.log(rng.dirichlet(np.full(k, 0.7)))
    f = rng.normal(0.0, 2.0, size=k)
    alpha, beta = rng.uniform(0.1, 3.0, size=2)
    return log_p, f, float(alpha), float(beta)


def _numerical_minimum(log_p, f, alpha, beta):
    """Minimises L over the simplex numerically: L-BFGS on softmax logits, autodiff gradients."""
    log_p, f = tf.constant(log_p), tf.constant(f)

    def value_and_gradient(logits):
        logits = tf.constant(logits)
        with tf.GradientTape() as tape:
            tape.watch(logits)
            log_q = tf.nn.log_softmax(logits)
            q = tf.exp(log_q)
            value = tf.reduce_sum(alpha * q * log_q + beta * q * (log_q - log_p) - q * f)
        return value.numpy(), tape.gradient(value, logits).numpy()

    start = np.zeros(log_p.shape[0])
    result = optimize.minimize(value_and_gradient, start, jac=True, method="L-BFGS-B",
                               options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000})
    return np.exp(result.x - logsumexp(result.x)), float(result.fun)


def test_closed_form_matches_autodiff_minimisation_over_the_simplex():
    rng = np.random.default_rng(0)
    for _ in range(6):
        case = _random_case(rng, k=6)
        q_num, v_num = _numerical_minimum(*case)
        log_q, minimum = standard_equation_solution(*case)
        np.testing.assert_allclose(np.exp(log_q).sum(), 1.0, atol=1e-12)
        np.testing.assert_allclose(q_num, np.exp(log_q), atol=1e-7)
        # The closed-form minimum is L at q*, and autodiff cannot go lower.
        np.testing.assert_allclose(standard_equation_objective(np.exp(log_q), *case), minimum,
                                   atol=1e-12)
        assert minimum <= v_num + 1e-10
        np.testing.assert_allclose(v_num, minimum, atol=1e-12)


def test_closed_form_is_below_random_points_of_the_simplex():
    rng = np.random.default_rng(1)
    for _ in range(20):
        case = _random_case(rng, k=5)
        log_q, minimum = standard_equation_solution(*case)
        others = rng.dirichlet(np.ones(5), size=2000)
        values = [standard_equation_objective(q, *case) for q in others]
        assert min(values) > minimum
        # Small moves away from q* raise L (second order: the minimum is strict).
        for direction in rng.normal(size=(5, 5)):
            step = 1e-3 * (direction - direction.mean())
            moved = np.exp(log_q) + step
            if moved.min() > 0:
                assert standard_equation_objective(moved, *case) > minimum


def test_alpha_0_beta_1_is_bayes_rule_and_the_minimum_is_minus_log_evidence():
    """With f = log p(y | x), L(q) = KL(q || prior) - E_q log p(y | x) = -ELBO(q)."""
    rng = np.random.default_rng(2)
    prior = rng.dirichlet(np.ones(7))
    likelihood = rng.uniform(0.01, 1.0, size=7)  # p(y | x) of one observation y
    log_q, minimum = standard_equation_solution(np.log(prior), np.log(likelihood), 0.0, 1.0)
    evidence = np.sum(prior * likelihood)
    np.testing.assert_allclose(np.exp(log_q), prior * likelihood / evidence, rtol=1e-12)
    np.testing.assert_allclose(minimum, -np.log(evidence), rtol=1e-12)


def test_beta_0_is_maximum_entropy_gibbs():
    rng = np.random.default_rng(3)
    f = rng.normal(size=6)
    for alpha in (0.5, 1.0, 4.0):
        log_q, minimum = standard_equation_solution(rng.normal(size=6), f, alpha, 0.0)
        np.testing.assert_allclose(np.exp(log_q), np.exp(f / alpha) / np.exp(f / alpha).sum(),
                                   rtol=1e-12)
        np.testing.assert_allclose(minimum, -alpha * logsumexp(f / alpha), rtol=1e-12)
    # Zero f and beta = 0: the uniform distribution, entropy log K.
    log_q, minimum = standard_equation_solution(np.zeros(6), np.zeros(6), 1.0, 0.0)
    np.testing.assert_allclose(np.exp(log_q), np.full(6, 1 / 6), rtol=1e-12)
    np.testing.assert_allclose(minimum, -np.log(6), rtol=1e-12)


def _f_data(data, k):
    """f_data(x) = log E_{x* ~ data} 1_{x*}(x) = log of the empirical distribution."""
    with np.errstate(divide="ignore"):
        return np.log(np.bincount(data, minlength=k) / len(data))


def test_f_data_with_alpha_1_and_small_beta_gives_the_empirical_distribution():
    rng = np.random.default_rng(4)
    k = 10
    data = rng.choice(8, size=40, p=rng.dirichlet(np.ones(8)))  # points 8, 9 never seen
    empirical = np.bincount(data, minlength=k) / len(data)
    log_p = np.log(rng.dirichlet(np.ones(k)))
    f = _f_data(data, k)
    errors = []
    for beta in (1e-1, 1e-2, 1e-3, 0.0):
        log_q, _ = standard_equation_solution(log_p, f, 1.0, beta)
        q = np.exp(log_q)
        assert np.all(q[empirical == 0] == 0)  # never off the data
        errors.append(np.abs(q - empirical).max())
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-2
    assert errors[3] < 1e-14  # beta = 0: exactly the empirical distribution


@pytest.mark.parametrize("beta", [1e-2, 1e-4])
def test_f_data_outer_problem_is_maximum_likelihood_as_beta_goes_to_0(beta):
    """J(theta) = min_q L(q; theta); by the envelope theorem grad J = beta grad KL(q*, p_theta).

    As beta -> 0, q* -> the empirical distribution and grad J / beta -> the
    gradient of the mean negative log-likelihood of a softmax model p_theta.
    """
    rng = np.random.default_rng(5)
    k = 8
    data = rng.choice(k, size=50)
    f = tf.constant(np.where(np.isfinite(_f_data(data, k)), _f_data(data, k), -1e300))
    theta = tf.Variable(rng.normal(size=k))
    with tf.GradientTape(persistent=True) as tape:
        log_p = tf.nn.log_softmax(theta)
        # -(alpha + beta) log Z, with alpha = 1: the closed-form minimum.
        j = -(1.0 + beta) * tf.reduce_logsumexp((beta * log_p + f) / (1.0 + beta))
        nll = -tf.reduce_mean(tf.gather(log_p, data))
    grad_j = tape.gradient(j, theta).numpy() / beta
    grad_nll = tape.gradient(nll, theta).numpy()
    np.testing.assert_allclose(grad_j, grad_nll, atol=0.5 * beta)
    # The closed form agrees with the numpy solution at this theta.
    _, minimum = standard_equation_solution(log_p.numpy(), _f_data(data, k), 1.0, beta)
    np.testing.assert_allclose(j.numpy(), minimum, rtol=1e-10)


def test_f_data_with_alpha_0_beta_1_gives_the_likelihood_of_one_point():
    """q* = p_theta restricted to the data; minimum -log E_data p_theta(x*).

    One data point: exactly its negative log-likelihood. Several: by Jensen at
    most their mean negative log-likelihood (not MLE: the alpha = 1, beta -> 0
    case above is).
    """
    rng = np.random.default_rng(6)
    k = 9
    log_p = np.log(rng.dirichlet(np.ones(k)))
    log_q, minimum = standard_equation_solution(log_p, _f_data(np.array([3]), k), 0.0, 1.0)
    np.testing.assert_allclose(np.exp(log_q), np.eye(k)[3], atol=1e-15)
    np.testing.assert_allclose(minimum, -log_p[3], rtol=1e-12)
    data = rng.choice(k, size=30)
    log_q, minimum = standard_equation_solution(log_p, _f_data(data, k), 0.0, 1.0)
    empirical = np.bincount(data, minlength=k) / len(data)
    np.testing.assert_allclose(np.exp(log_q), empirical * np.exp(log_p)
                               / np.sum(empirical * np.exp(log_p)), rtol=1e-12)
    np.testing.assert_allclose(minimum, -np.log(np.sum(empirical * np.exp(log_p))), rtol=1e-12)
    assert minimum <= -np.mean(log_p[data])
