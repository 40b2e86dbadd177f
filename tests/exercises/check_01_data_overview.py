"""The checks of notebook 01's exercises, on your notebooks/student/01_data_overview.ipynb. Run: make check NB=01

The checks are written once, in gle_utils/checks/nb01.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
