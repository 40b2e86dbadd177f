"""Checks for the exercises of notebook 03. Run: make check NB=03"""

import numpy as np
import pytest

from gle_utils.exercises import load_exercises

ex = load_exercises("03_face_features")

PEOPLE, FACES = 20, 9  # 20 people with 9 faces each, three expressions


def _faces(features_of, label_of, seed=0):
    """Faces interleaved (person 0, person 1, ..., person 0, ...): every plain fold holds every person."""
    rng = np.random.default_rng(seed)
    person = np.tile(np.arange(PEOPLE), FACES)
    label = np.array([label_of(p, i, rng) for i, p in enumerate(person)])
    X = np.array([features_of(p, l, rng) for p, l in zip(person, label)])
    return X, label, person


def test_probe_layer_reads_an_expression_that_is_there():
    # Each expression has its own direction, the same for everybody: readable on people never seen.
    X, y, person = _faces(lambda p, l, rng: 3.0 * np.eye(10)[l] + rng.normal(size=10),
                          lambda p, i, rng: i % 3)
    assert ex["probe_layer"](X, y, person) > 0.9


def test_probe_layer_on_noise_is_at_chance():
    X, y, person = _faces(lambda p, l, rng: rng.normal(size=10), lambda p, i, rng: int(rng.integers(3)))
    assert ex["probe_layer"](X, y, person) == pytest.approx(1 / 3, abs=0.12)


def test_probe_layer_leaves_people_out():
    # The features say only WHO it is, and each person always shows the same expression. A model that
    # has seen the person remembers the label (near 1.0); on people never seen it can only guess.
    who = np.random.default_rng(1).normal(size=(PEOPLE, 20)) * 5
    X, y, person = _faces(lambda p, l, rng: who[p] + rng.normal(size=20) * 0.1, lambda p, i, rng: p % 3)
    assert ex["probe_layer"](X, y, person) < 0.6, "faces of one person were on both sides of a fold"


def test_probe_layer_is_balanced():
    # 90% of the faces in one class, features of pure noise: plain accuracy ~0.9, balanced ~0.5.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 5))
    y = np.where(np.arange(200) < 20, "Negative", "Positive")  # one Negative face in each of 20 people
    assert ex["probe_layer"](X, y, np.arange(200) % 20) < 0.7, "plain accuracy, not balanced accuracy"


def test_probe_layer_uses_n_folds():
    X, y, person = _faces(lambda p, l, rng: 3.0 * np.eye(10)[l] + rng.normal(size=10),
                          lambda p, i, rng: i % 3)
    with pytest.raises(ValueError):  # GroupKFold cannot make 50 folds of 20 people
        ex["probe_layer"](X, y, person, n_folds=50)


def test_bgr_swap_reverses_the_channels():
    chip = np.random.default_rng(3).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    swapped = ex["bgr_swap"](chip)
    assert swapped.shape == chip.shape and swapped.dtype == np.uint8
    assert (swapped[..., 0] == chip[..., 2]).all() and (swapped[..., 2] == chip[..., 0]).all()
    assert (swapped[..., 1] == chip[..., 1]).all()
    assert (ex["bgr_swap"](swapped) == chip).all(), "swapping twice must give the chip back"


def test_bgr_swap_on_a_batch_a_grey_chip_and_a_copy():
    batch = np.random.default_rng(4).integers(0, 256, (2, 4, 5, 3), dtype=np.uint8)
    assert (ex["bgr_swap"](batch) == batch[..., ::-1]).all()
    grey = np.repeat(np.arange(20, dtype=np.uint8).reshape(4, 5, 1), 3, axis=2)
    assert (ex["bgr_swap"](grey) == grey).all()
    swapped = ex["bgr_swap"](batch)
    original = batch.copy()
    swapped[...] = 0
    assert (batch == original).all(), "bgr_swap must return a new array, not a view of its input"


def test_bgr_swap_refuses_what_is_not_three_channels():
    with pytest.raises(ValueError):
        ex["bgr_swap"](np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError):
        ex["bgr_swap"](np.zeros((4, 5, 4), np.uint8))


def test_nearest_expression_by_cosine_similarity():
    train = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = ["Positive", "Neutral", "Negative"]
    test = np.array([[2.0, 0.1], [-0.1, 3.0], [-5.0, -1.0]])
    assert list(ex["nearest_expression"](train, labels, test)) == labels
    # [1, 0] points the way of [10, 0] (cosine 1), though it is much nearer to [0, 1] in distance.
    assert list(ex["nearest_expression"]([[10.0, 0.0], [0.0, 1.0]], ["a", "b"], [[1.0, 0.0]])) == ["a"]


def test_nearest_expression_ignores_the_length_of_a_row():
    rng = np.random.default_rng(5)
    train, test = rng.normal(size=(30, 8)), rng.normal(size=(10, 8))
    labels = np.array(["Positive", "Neutral", "Negative"])[rng.integers(0, 3, 30)]
    guessed = ex["nearest_expression"](train, labels, test)
    assert len(guessed) == len(test)
    assert list(ex["nearest_expression"](train * rng.uniform(0.1, 10, (30, 1)), labels, test * 7)) == list(guessed)
