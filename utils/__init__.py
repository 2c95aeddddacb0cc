"""Shared helpers for the lecture notebooks of the text-classification course.

Submodules load on first use, so `import utils` stays light and `utils.setup()` can decide
online or offline before the Hugging Face libraries are imported (they read that choice then).
"""

import importlib

from .config import Config, setup
from .defaults import EMOTION_LABELS

# name -> module that defines it, imported when first asked for
_LAZY = {
    "data": None,
    "editions": None,
    "features": None,
    "models": None,
    "plots": None,
    "evaluation": None,
    "exercises": None,
    "finetune": None,
    "load_emotion": "data",
    "load_text_folder": "data",
    "take_subset": "data",
    "extract_hidden_states": "features",
    "hidden_states_map_fn": "features",
    "load_features": "features",
    "load_tokenizer": "models",
}

__all__ = ["EMOTION_LABELS", "Config", "setup", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'utils' has no attribute '{name}'")
    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
