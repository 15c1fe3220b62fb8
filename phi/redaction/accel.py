"""Optional compiled builds of the redaction engine's hot paths.

`build_accel.py` (run by `make install/test/bench`) compiles `spoken.py` and `engine.py` with
mypyc into extension modules beside them (Python then imports the `.so` in preference to the
`.py`), and the hand-written word scanner `_scan.c` (see `native_scanner`). The `.py` files stay
the source of truth and the fallback: nothing needs the compiled modules, and
`PHI_REDACTION_PURE=1` forces the pure-Python engine (no mypyc build, no scanner).

Invariant: a compiled module runs only if it was built from the exact source beside it. The
build writes the sources' SHA-256 (the `.py` modules and `_scan.c`) into `_accel.stamp`;
`use_fresh_modules()` (called by the package before it imports the engine) loads every module
from its `.py` instead when the stamp is missing or stale, and `native_scanner()` then gives
None, so an edit to a source always takes effect, built or not.
"""

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
PACKAGE = __name__.rpartition(".")[0]
# Compiled together, in import order (the engine imports spoken).
MODULES = ("spoken", "engine")
# The C word scanner: one source file, one extension module.
NATIVE = "_scan"
NATIVE_SOURCE = HERE / "_scan.c"
STAMP = HERE / "_accel.stamp"


def source_digest() -> str:
    """SHA-256 over the compiled modules' sources (what the stamp must match)."""
    digest = hashlib.sha256()
    for name in MODULES:
        digest.update(name.encode() + b"\0" + (HERE / f"{name}.py").read_bytes() + b"\0")
    digest.update(NATIVE.encode() + b"\0" + NATIVE_SOURCE.read_bytes() + b"\0")
    return digest.hexdigest()


def _built() -> bool:
    return any(HERE.glob("engine.*.so")) or any(HERE.glob("spoken.*.so"))


def _stamp_fresh() -> bool:
    try:
        return STAMP.read_text(encoding="utf-8").strip() == source_digest()
    except OSError:
        return False


def use_fresh_modules() -> None:
    """Load the modules from source when compiled ones are absent-by-choice, stale or unstamped."""
    if not _built():
        return
    if os.environ.get("PHI_REDACTION_PURE") != "1" and _stamp_fresh():
        return
    parent = sys.modules[PACKAGE]
    for name in MODULES:
        full = f"{PACKAGE}.{name}"
        spec = importlib.util.spec_from_file_location(full, HERE / f"{name}.py")
        if spec is None or spec.loader is None:  # pragma: no cover - the file is beside us
            raise ImportError(full)
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
        setattr(parent, name, module)


def native_scanner() -> ModuleType | None:
    """The C word scanner (`_scan.c`) if it is built from the source beside it and allowed.

    The engine and spoken.py call it where it can answer and keep their Python for the rest;
    None (not built, stale, or PHI_REDACTION_PURE=1) means their Python path alone.
    """
    if os.environ.get("PHI_REDACTION_PURE") == "1" or not _stamp_fresh():
        return None
    try:
        return importlib.import_module(f"{PACKAGE}.{NATIVE}")
    except ImportError:
        return None


def compiled() -> bool:
    """Whether the engine now running is the compiled build."""
    from . import engine, spoken

    return all(Path(m.__file__ or "").suffix == ".so" for m in (engine, spoken))


def native() -> bool:
    """Whether the engine now running reads its words with the C scanner."""
    from . import engine, spoken

    return engine._NATIVE is not None and spoken._NATIVE is not None
