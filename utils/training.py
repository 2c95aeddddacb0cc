"""Fine-tuning a sequence classifier with the Trainer (shared by lecture 6 and `python -m utils.finetune`)."""

from __future__ import annotations
