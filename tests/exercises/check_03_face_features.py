"""The checks of notebook 03's exercises, on your notebooks/student/03_face_features.ipynb. Run: make check NB=03

The checks are written once, in gle_utils/checks/nb03.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
