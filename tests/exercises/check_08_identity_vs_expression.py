"""The checks of notebook 08's exercises, on your notebooks/student/08_identity_vs_expression.ipynb. Run: make check NB=08

The checks are written once, in gle_utils/checks/nb08.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
