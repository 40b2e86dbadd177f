"""The checks of notebook 02's exercises, on your notebooks/student/02_face_detection.ipynb. Run: make check NB=02

The checks are written once, in gle_utils/checks/nb02.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
