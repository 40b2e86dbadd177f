"""The checks of notebook 06's exercises, on your notebooks/student/06_classifier_comparison.ipynb. Run: make check NB=06

The checks are written once, in gle_utils/checks/nb06.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
