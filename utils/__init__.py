"""Shared helpers for the lecture notebooks of the text-classification course."""

from .config import Config, setup
from .data import EMOTION_LABELS, load_emotion, load_text_folder, take_subset
from .features import extract_hidden_states, hidden_states_map_fn

__all__ = [
    "EMOTION_LABELS",
    "Config",
    "extract_hidden_states",
    "hidden_states_map_fn",
    "load_emotion",
    "load_text_folder",
    "setup",
    "take_subset",
]
