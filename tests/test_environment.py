"""The pins live in requirements.txt; environment.yml and binder/ must install exactly the same."""

import re

from helpers import load_tool

from gle_utils.config import REPO_ROOT

sync_pins = load_tool("sync_pins")
FORBIDDEN = ("torch", "tf-keras", "keras-vggface", "keras_vggface")


def requirement_pins() -> list[str]:
    return sync_pins.pins((REPO_ROOT / "requirements.txt").read_text())


def test_pins_are_read_without_comments_and_blank_lines():
    text = "# the pins\nnumpy==2.1.0  # arrays\n\npandas==2.2.3\n"
    assert sync_pins.pins(text) == ["numpy==2.1.0", "pandas==2.2.3"]


def test_every_requirement_is_pinned_exactly():
    lines = [l.split("#")[0].strip() for l in (REPO_ROOT / "requirements.txt").read_text().splitlines()]
    loose = [l for l in lines if l and "==" not in l]
    assert loose == [], f"unpinned requirements: {loose}"


def test_no_forbidden_packages():
    names = [re.split("==", pin)[0].lower() for pin in requirement_pins()]
    assert not set(names) & set(FORBIDDEN)


def test_environment_yml_has_the_same_pins():
    listed = re.findall(r"^\s+- (\S+==\S+)", (REPO_ROOT / "environment.yml").read_text(), re.M)
    assert sorted(listed) == sorted(requirement_pins()), "run: python tools/sync_pins.py"


def test_binder_has_the_same_pins():
    binder = sync_pins.pins((REPO_ROOT / "binder" / "requirements.txt").read_text())
    assert sorted(binder) == sorted(requirement_pins()), "run: python tools/sync_pins.py"


def test_installed_versions_match_the_pins():
    from importlib.metadata import PackageNotFoundError, version

    wrong = []
    for pin in requirement_pins():
        name, wanted = pin.split("==")
        try:
            got = version(name)
        except PackageNotFoundError:
            got = None
        if got != wanted:
            wrong.append(f"{name}: pinned {wanted}, installed {got}")
    assert wrong == []
