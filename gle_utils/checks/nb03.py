"""The checks of notebook 03's exercises: `make check NB=03`, the tests and the course's test cells run them."""

import numpy as np
import pytest

from gle_utils.checks import exercise

__all__ = ["probe_ignoring_people_reads_an_expression_that_is_there",
           "probe_ignoring_people_on_noise_is_at_chance", "probe_ignoring_people_lets_the_person_leak",
           "probe_ignoring_people_is_balanced", "probe_ignoring_people_uses_stratified_folds",
           "probe_ignoring_people_shuffles_people_sorted_in_a_row", "probe_ignoring_people_is_seeded",
           "bgr_swap_reverses_the_channels", "bgr_swap_on_a_batch_a_grey_chip_and_a_copy",
           "bgr_swap_refuses_what_is_not_three_channels", "nearest_expression_by_cosine_similarity",
           "nearest_expression_ignores_the_length_of_a_row"]


_PEOPLE, _FACES = 20, 9  # 20 people with 9 faces each, three expressions


def _faces(features_of, label_of, seed=0):
    """Faces interleaved (person 0, person 1, ..., person 0, ...): every plain fold holds every person."""
    rng = np.random.default_rng(seed)
    person = np.tile(np.arange(_PEOPLE), _FACES)
    label = np.array([label_of(p, i, rng) for i, p in enumerate(person)])
    X = np.array([features_of(p, l, rng) for p, l in zip(person, label)])
    return X, label, person


@exercise("probe_ignoring_people")
def probe_ignoring_people_reads_an_expression_that_is_there(ex):
    # Each expression has its own direction, the same for everybody.
    X, y, _ = _faces(lambda p, l, rng: 3.0 * np.eye(10)[l] + rng.normal(size=10), lambda p, i, rng: i % 3)
    assert ex["probe_ignoring_people"](X, y) > 0.9


@exercise("probe_ignoring_people")
def probe_ignoring_people_on_noise_is_at_chance(ex):
    X, y, _ = _faces(lambda p, l, rng: rng.normal(size=10), lambda p, i, rng: int(rng.integers(3)))
    assert ex["probe_ignoring_people"](X, y) == pytest.approx(1 / 3, abs=0.12)


@exercise("probe_ignoring_people")
def probe_ignoring_people_lets_the_person_leak(ex):
    # The features say only WHO it is, and each person always shows the same expression. Folds that
    # ignore the person put every person on both sides: the model remembers each person's label.
    who = np.random.default_rng(1).normal(size=(_PEOPLE, 20)) * 5
    X, y, _ = _faces(lambda p, l, rng: who[p] + rng.normal(size=20) * 0.1, lambda p, i, rng: p % 3)
    assert ex["probe_ignoring_people"](X, y) > 0.9, "the folds kept each person on one side"


@exercise("probe_ignoring_people")
def probe_ignoring_people_is_balanced(ex):
    # 90% of the faces in one class, features of pure noise: plain accuracy ~0.9, balanced ~0.5.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 5))
    y = np.where(np.arange(200) < 20, "Negative", "Positive")
    assert ex["probe_ignoring_people"](X, y) < 0.7, "plain accuracy, not balanced accuracy"


@exercise("probe_ignoring_people")
def probe_ignoring_people_uses_stratified_folds(ex):
    # The faces sorted by class (60 of each): plain folds without stratification would train without
    # the class they test, and score far below what the features allow.
    rng = np.random.default_rng(6)
    y = np.repeat([0, 1, 2], 60)
    X = 3.0 * np.eye(10)[y] + rng.normal(size=(180, 10))
    assert ex["probe_ignoring_people"](X, y, n_folds=3) > 0.9, "folds must keep the class shares"
    with pytest.raises(ValueError):  # stratified folds cannot make 100 folds of 60 faces a class
        ex["probe_ignoring_people"](X, y, n_folds=100)


def _people_in_a_row():
    """15 people, 12 faces each, stored person after person; the features say only WHO it is, and
    each person always shows one expression (person p: class p % 3)."""
    rng = np.random.default_rng(7)
    who = rng.normal(size=(15, 20)) * 5
    person = np.repeat(np.arange(15), 12)
    return who[person] + rng.normal(size=(len(person), 20)) * 0.1, person % 3


@exercise("probe_ignoring_people")
def probe_ignoring_people_shuffles_people_sorted_in_a_row(ex):
    # Unshuffled stratified folds cut each class's faces into blocks in their order: one whole person
    # of each class a fold, so nobody is on both sides and the leak cannot show (about chance).
    # Shuffled, every person's faces fall on both sides, and a model that knows the person is right.
    X, y = _people_in_a_row()
    assert ex["probe_ignoring_people"](X, y, n_folds=5, seed=0) > 0.9, \
        "StratifiedKFold(n_folds, shuffle=True, random_state=seed): without shuffling, the folds keep people apart"


@exercise("probe_ignoring_people")
def probe_ignoring_people_is_seeded(ex):
    # A weak signal: which faces share a fold changes the score, so the seed must choose the folds.
    rng = np.random.default_rng(8)
    y = np.repeat([0, 1, 2], 30)
    X = 0.6 * np.eye(6)[y] + rng.normal(size=(90, 6))
    scores = [ex["probe_ignoring_people"](X, y, n_folds=3, seed=seed) for seed in range(3)]
    again = [ex["probe_ignoring_people"](X, y, n_folds=3, seed=1) for _ in range(2)]
    assert again == pytest.approx([scores[1]] * 2), "the same seed must give the same folds"
    assert len({round(score, 9) for score in scores}) > 1, "the seed must choose the folds (random_state=seed)"


@exercise("bgr_swap")
def bgr_swap_reverses_the_channels(ex):
    chip = np.random.default_rng(3).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    swapped = ex["bgr_swap"](chip)
    assert swapped.shape == chip.shape and swapped.dtype == np.uint8
    assert (swapped[..., 0] == chip[..., 2]).all() and (swapped[..., 2] == chip[..., 0]).all()
    assert (swapped[..., 1] == chip[..., 1]).all()
    assert (ex["bgr_swap"](swapped) == chip).all(), "swapping twice must give the chip back"


@exercise("bgr_swap")
def bgr_swap_on_a_batch_a_grey_chip_and_a_copy(ex):
    batch = np.random.default_rng(4).integers(0, 256, (2, 4, 5, 3), dtype=np.uint8)
    assert (ex["bgr_swap"](batch) == batch[..., ::-1]).all()
    grey = np.repeat(np.arange(20, dtype=np.uint8).reshape(4, 5, 1), 3, axis=2)
    assert (ex["bgr_swap"](grey) == grey).all()
    swapped = ex["bgr_swap"](batch)
    original = batch.copy()
    swapped[...] = 0
    assert (batch == original).all(), "bgr_swap must return a new array, not a view of its input"


@exercise("bgr_swap")
def bgr_swap_refuses_what_is_not_three_channels(ex):
    with pytest.raises(ValueError):
        ex["bgr_swap"](np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError):
        ex["bgr_swap"](np.zeros((4, 5, 4), np.uint8))


@exercise("nearest_expression")
def nearest_expression_by_cosine_similarity(ex):
    train = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = ["Positive", "Neutral", "Negative"]
    test = np.array([[2.0, 0.1], [-0.1, 3.0], [-5.0, -1.0]])
    assert list(ex["nearest_expression"](train, labels, test)) == labels
    # [1, 0] points the way of [10, 0] (cosine 1), though it is much nearer to [0, 1] in distance.
    assert list(ex["nearest_expression"]([[10.0, 0.0], [0.0, 1.0]], ["a", "b"], [[1.0, 0.0]])) == ["a"]


@exercise("nearest_expression")
def nearest_expression_ignores_the_length_of_a_row(ex):
    rng = np.random.default_rng(5)
    train, test = rng.normal(size=(30, 8)), rng.normal(size=(10, 8))
    labels = np.array(["Positive", "Neutral", "Negative"])[rng.integers(0, 3, 30)]
    guessed = ex["nearest_expression"](train, labels, test)
    assert len(guessed) == len(test)
    assert list(ex["nearest_expression"](train * rng.uniform(0.1, 10, (30, 1)), labels, test * 7)) == list(guessed)
