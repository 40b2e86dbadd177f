"""The checks of notebook 04's exercises, on your notebooks/student/04_median_vs_mean_pooling.ipynb. Run: make check NB=04

The checks are written once, in gle_utils/checks/nb04.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
