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


def test_binder_has_the_same_pins_but_the_websites():
    binder = sync_pins.pins((REPO_ROOT / "binder" / "requirements.txt").read_text())
    for_binder = sync_pins.binder_pins((REPO_ROOT / "requirements.txt").read_text())
    assert sorted(binder) == sorted(for_binder), "run: python tools/sync_pins.py"
    import tomllib

    site_only = {_canonical(pin.split("==")[0]) for pin in set(requirement_pins()) - set(for_binder)}
    extra = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["site"]
    assert site_only == {_canonical(re.split(r"[<>=!~ ]", r)[0]) for r in extra}, (
        f"requirements.txt's part from {sync_pins.SITE_ONLY!r} on pins pyproject.toml's `site` extra, no more, no less")


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


def test_the_registries_name_the_pinned_versions_of_the_packages_they_take_weights_from():
    """A registered part whose weights ship in a package of requirements.txt names that package's
    pin as its weights' source (faces, backbones, ...): the two must not drift apart."""
    from gle_utils import backbones, classifiers, expression, faces, scene

    pinned = dict(pin.split("==") for pin in requirement_pins())
    registries = (faces.FACE_DETECTORS, backbones.IDENTITY_NETWORKS, expression.EXPRESSION_NETWORKS,
                  scene.WHOLE_IMAGE_MODELS, classifiers.CLASSIFIERS)
    sources = [entry.weights.source for registry in registries for entry in registry if entry.weights]
    named = [source.split("==") for source in sources if "==" in source]
    assert any(name in pinned for name, _ in named), "no registry names a package of requirements.txt"
    wrong = [f"{name}=={version} (requirements.txt: {pinned[name]})" for name, version in named
             if name in pinned and pinned[name] != version]
    assert wrong == []


# ---- pyproject.toml's ranges against requirements.txt's pins --------------------------------------
# requirements.txt pins tensorflow-cpu for the CPU machines (`make setup` installs it, then this
# package with --no-deps); pyproject.toml names `tensorflow`, the distribution Colab ships.
PIN_ALIASES = {"tensorflow-cpu": "tensorflow"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> dict:
    """{canonical name: packaging Requirement} of pyproject.toml's dependencies and extras."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        listed += extra
    requirements = [Requirement(text) for text in listed]
    return {_canonical(r.name): r for r in requirements}


def test_pyproject_depends_on_tensorflow_not_tensorflow_cpu():
    names = set(pyproject_requirements())
    assert "tensorflow" in names and "tensorflow-cpu" not in names, (
        "Colab ships `tensorflow`: depending on tensorflow-cpu would install a second TensorFlow over it")


def test_every_pyproject_dependency_has_a_lower_and_an_upper_bound():
    loose = [str(r) for r in pyproject_requirements().values()
             if not any(s.operator in (">=", ">", "==", "~=") for s in r.specifier)
             or not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)]
    assert loose == [], f"give each a range (>=oldest verified,<next major): {loose}"


def test_every_pin_lies_inside_pyprojects_range():
    ranges = pyproject_requirements()
    outside = []
    for pin in requirement_pins():
        name, version = pin.split("==")
        name = PIN_ALIASES.get(_canonical(name), _canonical(name))
        if name in ranges and not ranges[name].specifier.contains(version, prereleases=True):
            outside.append(f"{pin} is outside pyproject.toml's {ranges[name]}")
    assert outside == []


def test_every_pyproject_dependency_is_pinned_in_requirements():
    pinned = {PIN_ALIASES.get(_canonical(pin.split("==")[0]), _canonical(pin.split("==")[0]))
              for pin in requirement_pins()}
    assert sorted(set(pyproject_requirements()) - pinned) == [], "pin each in requirements.txt too"
