"""Shared helpers for the lecture notebooks of the text-classification course."""

from . import data, features, plots, training
from .config import Config, setup
from .data import EMOTION_LABELS, load_emotion, load_text_folder, take_subset
from .features import extract_hidden_states, hidden_states_map_fn, load_features

__all__ = [
    "EMOTION_LABELS",
    "Config",
    "data",
    "extract_hidden_states",
    "features",
    "hidden_states_map_fn",
    "load_emotion",
    "load_features",
    "load_text_folder",
    "plots",
    "setup",
    "take_subset",
    "training",
]
