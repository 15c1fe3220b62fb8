"""Build the optional compiled redaction modules in place: `python phi/redaction/build_accel.py`.

Run by `make install/test/bench`. Up to date (stamp matches the sources): does nothing. Else it
removes the old builds first, so a failed build never leaves a stale one, compiles `spoken.py`
and `engine.py` with mypyc and the C word scanner `_scan.c` in a temporary directory and copies
the extension modules beside them. Any failure (no mypy, no compiler, no headers) prints one line and exits 0: the
pure-Python engine is then used, which is always correct, just slower.

Invariant: the stamp is written only after a complete build, and holds the digest of the
sources that build compiled (see accel.py).
"""

import contextlib
import fcntl
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _accel():  # accel.py, loaded by path: importing the package would load the engine
    spec = importlib.util.spec_from_file_location("_phi_redaction_accel", HERE / "accel.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _remove_builds() -> None:
    for path in (*HERE.glob("*.so"), HERE / "_accel.stamp"):
        path.unlink(missing_ok=True)


def build() -> str:
    """Build if needed; a one-line account of what happened."""
    # Several people's `make test` share one working tree: one build at a time, and the
    # up-to-date check inside the lock.
    with open(HERE / ".accel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked()


def _build_locked() -> str:
    accel = _accel()
    digest = accel.source_digest()
    if accel.STAMP.exists() and accel.STAMP.read_text().strip() == digest and accel._built():
        return "phi.redaction: compiled modules up to date"
    # Unlink first: a process that has the old .so mapped keeps its inode; copying over it in
    # place could crash that process.
    _remove_builds()
    from mypyc.build import mypycify  # only needed to build; absent means "skip"
    from setuptools import Distribution, Extension

    paths = [f"phi/redaction/{name}.py" for name in accel.MODULES]
    with tempfile.TemporaryDirectory(prefix="phi-accel-") as tmp:
        os.environ["MYPY_CACHE_DIR"] = str(Path(tmp) / "mypy-cache")
        os.chdir(ROOT)
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            extensions = mypycify(
                paths, opt_level="3", group_name="phi.redaction._accel", target_dir=tmp + "/c"
            )
            scanner = f"phi/redaction/{accel.NATIVE}.c"
            extensions.append(Extension(f"phi.redaction.{accel.NATIVE}", [scanner]))
            dist = Distribution({"name": "phi-redaction-accel", "ext_modules": extensions})
            command = dist.get_command_obj("build_ext")
            command.inplace = True  # type: ignore[attr-defined]
            command.build_temp = tmp + "/t"  # type: ignore[attr-defined]
            command.build_lib = tmp + "/lib"  # type: ignore[attr-defined]
            dist.run_command("build_ext")
    accel.STAMP.write_text(digest + "\n", encoding="utf-8")
    return "phi.redaction: compiled modules built (mypyc, C word scanner)"


def main() -> None:
    """Build, or say in one line why the pure-Python engine will be used."""
    try:
        print(build())
    except (Exception, SystemExit) as exc:  # any failure means: use pure Python
        _remove_builds()
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        print(f"phi.redaction: compiled modules not built ({reason}); using pure Python")
    sys.exit(0)


if __name__ == "__main__":
    main()
