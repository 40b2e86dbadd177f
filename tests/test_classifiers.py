"""The Table 2 zoo, evaluation with spread, and the Table 2 layout."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.multiclass import OneVsRestClassifier

from gle_utils import classifiers
from gle_utils.classifiers import (CLASSIFIERS, MODEL_LABELS, MODEL_NAMES, class_indices, evaluate, make_classifier,
                                   probabilities_in_class_order, repeated_splits, table2)
from gle_utils.config import CLASSES


@pytest.fixture(scope="module")
def problem():
    """A small synthetic 3-class problem with class names as labels (chance = 1/3)."""
    X, y = make_classification(n_samples=150, n_features=30, n_informative=6, n_redundant=4,
                               n_classes=3, class_sep=2.0, random_state=0)
    return X, np.array(CLASSES)[y]


def test_class_indices_follow_the_project_order():
    assert class_indices(["Negative", "Positive", "Neutral"]).tolist() == [2, 0, 1]
    assert class_indices(np.array([2, 0])).tolist() == [2, 0]
    with pytest.raises(ValueError, match="Happy"):
        class_indices(["Positive", "Happy"])
    with pytest.raises(ValueError, match="indices"):
        class_indices([0, 3])


def test_probability_columns_are_put_in_classes_order(problem):
    X, y = problem
    model = make_classifier("logistic_regression").fit(X, y)
    assert list(model.classes_) == sorted(CLASSES)  # scikit-learn sorts: Negative, Neutral, Positive
    ordered = probabilities_in_class_order(model, X)
    raw = model.predict_proba(X)
    for index, name in enumerate(CLASSES):
        assert np.array_equal(ordered[:, index], raw[:, list(model.classes_).index(name)])
    assert (np.array(CLASSES)[ordered.argmax(axis=1)] == model.predict(X)).all()


def test_a_class_the_model_never_saw_gets_probability_zero(problem):
    X, y = problem
    seen = y != "Neutral"
    model = make_classifier("logistic_regression").fit(X[seen], y[seen])
    probs = probabilities_in_class_order(model, X)
    assert probs.shape == (150, 3)
    assert (probs[:, CLASSES.index("Neutral")] == 0).all()
    assert np.allclose(probs.sum(axis=1), 1)


def test_the_authors_forest_is_one_vs_rest_with_the_given_trees():
    model = make_classifier("random_forest", n_estimators=7)
    forest = model.steps[-1][1]
    assert isinstance(forest, OneVsRestClassifier)
    assert forest.estimator.n_estimators == 7
    with pytest.raises(ValueError, match="unknown classifier"):
        make_classifier("knn")


@pytest.mark.parametrize("entry", CLASSIFIERS, ids=CLASSIFIERS.names())
def test_every_registered_classifier_learns_and_is_seeded(entry, problem):
    """The contract of a Table 2 classifier: unfitted, probabilities for every class, a fit
    that beats chance, and the same fit again from the same seed."""
    X, y = problem
    first = make_classifier(entry.name, seed=3, n_estimators=20)
    assert not hasattr(first, "classes_"), "make_classifier returns an unfitted classifier"
    probabilities = first.fit(X[:100], y[:100]).predict_proba(X[100:])
    assert probabilities.shape == (50, 3) and np.allclose(probabilities.sum(axis=1), 1)
    assert (first.predict(X[100:]) == y[100:]).mean() > 0.6  # chance is 0.33
    again = make_classifier(entry.name, seed=3, n_estimators=20).fit(X[:100], y[:100])
    assert np.array_equal(again.predict_proba(X[100:]), probabilities)
    assert MODEL_LABELS[entry.name] == entry.label and entry.about


def test_evaluate_fits_every_classifier_on_every_split(problem):
    X, y = problem
    results = evaluate(X, y, n_repeats=2, n_estimators=20, feature_set="synthetic", verbose=False)
    assert list(results.columns) == ["model", "feature_set", "repeat", "accuracy", "n_train", "n_test"]
    assert list(results.model) == list(MODEL_NAMES) * 2 and list(results.repeat) == [0] * 5 + [1] * 5
    assert (results.feature_set == "synthetic").all()
    assert ((results.n_train + results.n_test == 150) & (results.n_test == 38)).all()  # test_size 0.25
    with pytest.raises(ValueError, match="unknown classifiers"):
        evaluate(X, y, model_names=["knn"], verbose=False)


def test_same_seed_same_accuracies_other_seed_other_splits(problem):
    X, y = problem
    models = ["logistic_regression", "random_forest"]
    first = evaluate(X, y, model_names=models, n_repeats=2, n_estimators=20, seed=5, verbose=False)
    second = evaluate(X, y, model_names=models, n_repeats=2, n_estimators=20, seed=5, verbose=False)
    pd.testing.assert_frame_equal(first, second)
    test_a = repeated_splits(y, n_repeats=2, seed=5)[0][1]
    test_b = repeated_splits(y, n_repeats=2, seed=6)[0][1]
    assert set(test_a) != set(test_b)


def test_splits_are_stratified_and_grouped_splits_keep_each_person_on_one_side(problem):
    _, y = problem
    for train, test in repeated_splits(y, n_repeats=3, test_size=0.2):
        counts = pd.Series(y[test]).value_counts()
        assert counts.max() - counts.min() <= 1
    people = np.arange(len(y)) // 5  # 30 people, 5 photos each
    for train, test in repeated_splits(y, groups=people, n_repeats=3):
        assert not set(people[train]) & set(people[test])
        assert 0.1 < len(test) / len(y) < 0.4


def test_rows_without_features_are_dropped_and_counted(problem, capsys):
    X, y = problem
    X = X.copy()
    X[[0, 7, 9]] = np.nan  # three faceless photos
    results = evaluate({"faces": X, "whole": problem[0]}, y, model_names=["logistic_regression"],
                       n_repeats=1)
    assert results.attrs["dropped"] == {"faces": 3, "whole": 0}
    assert "3 of 150 photos have no features" in capsys.readouterr().out
    by_set = results.set_index("feature_set")
    assert by_set.loc["faces", "n_train"] + by_set.loc["faces", "n_test"] == 147
    assert by_set.loc["whole", "n_train"] + by_set.loc["whole", "n_test"] == 150


def test_table2_layout_puts_the_papers_number_in_its_own_column():
    results = pd.DataFrame({
        "model": ["random_forest"] * 3 + ["svm"] * 3 + ["mlp"] * 3 + ["random_forest"] * 3,
        "feature_set": ["landmarks"] * 3 + ["vggface_rgb_fc7"] * 3 + ["faceid_conv64"] * 3 + ["vggface_bgr_avgpool"] * 3,
        "repeat": [0, 1, 2] * 4,
        "accuracy": [0.60, 0.62, 0.64, 0.5, 0.5, 0.5, 0.4, 0.5, 0.6, 0.7, 0.7, 0.7],
    })
    table = table2(results)
    measured = ["landmarks, Random Forest", "vggface_rgb_fc7, SVM",
                "faceid_conv64, Multi-Layered Perceptron (1 hidden layer)", "vggface_bgr_avgpool, Random Forest"]
    assert list(table.index[:4]) == measured
    assert table.loc["landmarks, Random Forest", "accuracy here (%), mean ± sd"] == "62.0 ± 2.0"
    # Beside a measured row only what the paper measured on that very feature set, fitted on photos.
    assert table.loc["vggface_bgr_avgpool, Random Forest", classifiers.PAPER_COLUMN] == "70.11"
    assert table.loc["vggface_rgb_fc7, SVM", classifiers.PAPER_COLUMN] == ""
    assert table.loc["landmarks, Random Forest", classifiers.PAPER_COLUMN] == ""  # the paper's forest was on faces
    assert table.iloc[2][classifiers.PAPER_COLUMN] == ""
    # The paper's rows on VGGFace features of no stated layer, and its per-face landmark forest: once each.
    paper_only = table.iloc[4:]
    assert list(paper_only.index) == ["paper only: vggface (layer not given), Logistic Regression",
                                      "paper only: vggface (layer not given), SVM",
                                      "paper only: vggface (layer not given), Multi-Layered Perceptron (1 hidden layer)",
                                      "paper only: landmarks (fitted on faces, summed per photo), Random Forest"]
    assert paper_only[classifiers.PAPER_COLUMN].tolist() == ["67.24", "64.90 / 65.41", "68.09", "65.16"]
    assert (paper_only["accuracy here (%), mean ± sd"] == "").all() and (paper_only.repeats == 0).all()
    assert classifiers.paper_accuracy("random_forest", "vggface_bgr_avgpool") == "70.11"
    assert classifiers.paper_accuracy("svm", "vggface_rgb_fc7") == ""
    assert classifiers.paper_accuracy("random_forest", "landmarks") == "65.16"
    assert classifiers.paper_accuracy("random_forest", "landmarks", unit="photo") == ""
    assert classifiers.paper_accuracy("svm", "centrist") == "52.97"
    assert classifiers.paper_row("VGG-16 for the whole image") == 65.89
    with pytest.raises(ValueError, match="no row"):
        classifiers.paper_row("VGG-17")
    assert classifiers.paper_only_rows(["centrist"]).empty  # no VGGFace set, no landmarks: nothing to add
    # The authors' code: its photo forests beside our photo forests, its landmark forest (on faces) beside the paper's.
    authors = table[classifiers.AUTHORS_CODE_COLUMN]
    assert authors["vggface_bgr_avgpool, Random Forest"] == "69.60"
    assert authors["landmarks, Random Forest"] == "" and authors.iloc[-1] == "64.75"
    assert (authors.drop(["vggface_bgr_avgpool, Random Forest", authors.index[-1]]) == "").all()


def test_the_authors_code_figures_sit_with_the_paper_rows_of_the_same_pass():
    """norm=1 (the network sees BGR, as VGGFace was trained) printed 69.60 / 68.32, near the paper's BGR
    rows (70.11 / 68.18); norm=3 (RGB) 69.85 / 67.67, near its RGB rows (69.78 / 67.62)."""
    for name, authors in classifiers.AUTHORS_CODE_VAL.items():
        if name.startswith("vggface_"):
            assert abs(authors - float(classifiers.paper_accuracy("random_forest", name))) < 0.6, name
    assert classifiers.AUTHORS_CODE_VAL["vggface_rgb_avgpool"] == 69.85
    assert classifiers.AUTHORS_CODE_VAL["vggface_bgr_fc7"] == 68.32


def test_fits_at_the_same_time_give_the_same_accuracies(problem):
    X, y = problem
    sets, models = {"narrow": X[:, :5], "wide": X}, ["mlp", "random_forest", "logistic_regression"]
    one_at_a_time = evaluate(sets, y, model_names=models, n_repeats=2, n_estimators=10, seed=3, verbose=False)
    two_at_a_time = evaluate(sets, y, model_names=models, n_repeats=2, n_estimators=10, seed=3, n_jobs=2,
                             verbose=False)
    pd.testing.assert_frame_equal(one_at_a_time, two_at_a_time)
    # Rows keep the order of the feature sets, repeats and models, whatever order the fits ran in
    # (the widest set's fits start first).
    assert list(one_at_a_time.feature_set) == ["narrow"] * 6 + ["wide"] * 6
    assert list(one_at_a_time.repeat) == [0, 0, 0, 1, 1, 1] * 2
    assert list(one_at_a_time.model) == models * 4


def test_a_given_split_replaces_the_random_ones_and_skips_rows_without_features(problem):
    X, y = problem
    X = X.copy()
    X[[0, 1]] = np.nan                        # two faceless photos, one on each side
    is_train = np.arange(len(y)) % 3 != 0      # rows 1, 2, 4, 5, ... train; 0, 3, 6, ... test
    table = evaluate(X, y, model_names=["logistic_regression"], train_test=(is_train, ~is_train), verbose=False)
    assert len(table) == 1 and table.repeat.iloc[0] == 0
    assert (table.n_train.iloc[0], table.n_test.iloc[0]) == (is_train.sum() - 1, (~is_train).sum() - 1)
    keep = ~np.isnan(X).any(axis=1)
    model = make_classifier("logistic_regression").fit(X[is_train & keep], class_indices(y[is_train & keep]))
    expected = (model.predict(X[~is_train & keep]) == class_indices(y[~is_train & keep])).mean()
    assert table.accuracy.iloc[0] == pytest.approx(expected)
