"""Figures the lectures draw more than once (matplotlib, with titles and labelled axes)."""

from __future__ import annotations
