"""reveal.js and MathJax beside the decks, from PyPI wheels that ship them: a deck needs no CDN."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REVEAL_DIR = "reveal.js"  # beside the decks; the decks and the index page load it from there
MATHJAX_DIR = "mathjax"
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# (package, version, folder in the wheel that holds the files)
REVEAL_WHEEL = ("sphinx-revealjs", "3.2.1", "sphinx_revealjs/_static/revealjs/")
MATHJAX_WHEEL = ("jupyter-server-mathjax", "0.2.6", "jupyter_server_mathjax/static/")


def vendor_assets(out_dir: Path, cache_dir: Path, math: bool) -> None:
    """Copy reveal.js (and MathJax when a deck needs it) into `out_dir` from their PyPI wheels."""
    _copy_from_wheel(REVEAL_WHEEL, cache_dir, out_dir / REVEAL_DIR)
    if math:
        _copy_from_wheel(MATHJAX_WHEEL, cache_dir, out_dir / MATHJAX_DIR)
    else:
        shutil.rmtree(out_dir / MATHJAX_DIR, ignore_errors=True)


def _copy_from_wheel(wheel: tuple[str, str, str], cache_dir: Path, target: Path) -> None:
    package, version, prefix = wheel
    unpacked = cache_dir / f"{package}-{version}"
    if not (unpacked / "COMPLETE").exists():
        archive = _download_wheel(package, version, cache_dir)
        shutil.rmtree(unpacked, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if member.startswith(prefix) and not member.endswith((".map", ".scss", "/")):
                    dest = unpacked / member[len(prefix) :]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(member))
        (unpacked / "COMPLETE").touch()
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(unpacked, target, ignore=shutil.ignore_patterns("COMPLETE"))


def _download_wheel(package: str, version: str, cache_dir: Path) -> Path:
    """The wheel of `package==version` from pip's configured index (kept in `cache_dir`)."""
    stem = f"{package.replace('-', '_')}-{version}-"
    found = sorted(cache_dir.glob(f"{stem}*.whl"))
    if not found:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
        cmd += ["--disable-pip-version-check", "-d", str(cache_dir), f"{package}=={version}"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(cache_dir.glob(f"{stem}*.whl"))
        if result.returncode or not found:
            raise RuntimeError(
                f"could not download {package}=={version} from PyPI (it ships the files the decks "
                f"load offline):\n{result.stderr.strip()}"
            )
    return found[-1]
