"""The checks of notebook 07's exercises, on your notebooks/student/07_weighted_ensemble.ipynb. Run: make check NB=07

The checks are written once, in gle_utils/checks/nb07.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
