"""The checks of notebook 05's exercises, on your notebooks/student/05_landmark_distances.ipynb. Run: make check NB=05

The checks are written once, in gle_utils/checks/nb05.py; the course's autograded test cells run the same.
"""


def test_exercise(exercise_check, ex):
    exercise_check(ex)
