"""Helpers that several test files share (fixtures live in conftest.py): ``from helpers import ...``."""

import importlib.util
import struct
import zlib
from types import ModuleType

from gle_utils.config import REPO_ROOT

__all__ = ["load_tool", "png_header_only"]


def load_tool(name: str) -> ModuleType:
    """The command-line tool tools/<name>.py as a module, to call its functions (its main() does not run)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels but which holds one tiny data block."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
