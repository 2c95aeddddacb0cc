"""A local stand-in for the Hugging Face Hub: olah (a self-hosted Hub mirror) serving git repos we build.

The repos hold what the online profile downloads, at toy sizes: DistilBERT under its canonical id and
its old one, a published emotion classifier, an NLI model for lecture 7's zero-shot pipeline, and `dair-ai/emotion` laid out as the Hub stores it
(parquet files under `split/` and a dataset card whose `dataset_info` names the labels), built from
the shared copy of the tweets. The models are randomly initialised, so nothing they predict means
anything; what is tested is that every download, file name and API call of the online path works.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import torch

from utils.config import ONLINE_MODEL, offline_model_path
from utils.data import EMOTION_LABELS, EMOTION_SPLITS, load_text_folder
from utils.defaults import HUB_DATASET, NLI_MODEL

ROOT = Path(__file__).resolve().parents[1]
HUB_VENV = ROOT / ".venv-hub"  # `make hub-venv`: olah lives apart from the course's packages
OLD_MODEL_ID = "distilbert-base-uncased"  # the Hub redirects it to ONLINE_MODEL
HUB_CLASSIFIER = "bhadresh-savani/distilbert-base-uncased-emotion"
START_SECONDS = 60
NLI_LABELS = ("ENTAILMENT", "NEUTRAL", "CONTRADICTION")  # as in the real NLI_MODEL's config.json

# DistilBERT's config.json field names, at toy sizes (the real model: dim 768, 6 layers, 12 heads).
# The context stays at 512 positions, as in the real model, so the course reports the same limit.
DISTILBERT_CONFIG = {
    "activation": "gelu",
    "architectures": ["DistilBertForMaskedLM"],
    "attention_dropout": 0.1,
    "dim": 32,
    "dropout": 0.1,
    "hidden_dim": 64,
    "initializer_range": 0.02,
    "max_position_embeddings": 512,
    "model_type": "distilbert",
    "n_heads": 2,
    "n_layers": 2,
    "pad_token_id": 0,
    "qa_dropout": 0.1,
    "seq_classif_dropout": 0.2,
    "sinusoidal_pos_embds": False,
    "tie_weights_": True,
    "vocab_size": 30522,
}
# Like the real distilbert-base-uncased: no model_max_length, so transformers reports 1e30.
TOKENIZER_CONFIG = {"do_lower_case": True}


def build_repos(target: Path, data_dir: Path) -> Path:
    """Write the stand-in's git repos under `target/{models,datasets}/...`; returns `target`."""
    distilbert = _distilbert_files(seed=0)
    for repo_id in (ONLINE_MODEL, OLD_MODEL_ID):
        _git_repo(target / "models" / repo_id, distilbert)
    _git_repo(target / "models" / HUB_CLASSIFIER, _classifier_files(EMOTION_LABELS, seed=1))
    _git_repo(target / "models" / NLI_MODEL, _classifier_files(NLI_LABELS, seed=2))
    _git_repo(target / "datasets" / HUB_DATASET, _emotion_files(data_dir))
    return target


def _distilbert_files(seed: int) -> dict[str, bytes]:
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    torch.manual_seed(seed)
    model = DistilBertForMaskedLM(DistilBertConfig(**DISTILBERT_CONFIG))
    return {**_tokenizer_files(), **_model_files(model, DISTILBERT_CONFIG)}


def _classifier_files(labels: tuple[str, ...], seed: int) -> dict[str, bytes]:
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = {
        **DISTILBERT_CONFIG,
        "architectures": ["DistilBertForSequenceClassification"],
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "label2id": {name: i for i, name in enumerate(labels)},
        "problem_type": "single_label_classification",
    }
    torch.manual_seed(seed)
    model = DistilBertForSequenceClassification(DistilBertConfig(**config))
    return {**_tokenizer_files(), **_model_files(model, config)}


def _model_files(model: torch.nn.Module, config: dict) -> dict[str, bytes]:
    from safetensors.torch import save

    # Tied weights (the MLM decoder shares the word embeddings) are stored once, as on the Hub.
    state, seen = {}, set()
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        state[name] = tensor.contiguous()
    return {
        "config.json": _json(config),
        "model.safetensors": save(state, metadata={"format": "pt"}),
    }


def _tokenizer_files() -> dict[str, bytes]:
    # DistilBERT uses the uncased BERT vocabulary, the same file as the packaged offline model.
    from tokenizers import Tokenizer

    vocab = (offline_model_path() / "vocab.txt").read_bytes()
    fast = Tokenizer.from_file(str(offline_model_path() / "tokenizer.json"))
    fast.no_truncation()
    fast.no_padding()
    return {
        "vocab.txt": vocab,
        "tokenizer.json": fast.to_str().encode(),
        "tokenizer_config.json": _json(TOKENIZER_CONFIG),
    }


def _emotion_files(data_dir: Path) -> dict[str, bytes]:
    import io

    emotions = load_text_folder(data_dir, label_names=EMOTION_LABELS)
    files = {}
    for split in EMOTION_SPLITS:
        buffer = io.BytesIO()
        emotions[split].to_parquet(buffer)
        files[f"split/{split}-00000-of-00001.parquet"] = buffer.getvalue()
    names = "\n".join(f"          '{i}': {name}" for i, name in enumerate(EMOTION_LABELS))
    splits = "\n".join(
        f"  - name: {split}\n    num_bytes: {emotions[split].data.nbytes}\n"
        f"    num_examples: {len(emotions[split])}"
        for split in EMOTION_SPLITS
    )
    data_files = "\n".join(
        f"  - split: {split}\n    path: split/{split}-*" for split in EMOTION_SPLITS
    )
    card = f"""---
language:
- en
task_categories:
- text-classification
configs:
- config_name: split
  data_files:
{data_files}
  default: true
dataset_info:
  config_name: split
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
{names}
  splits:
{splits}
---

# emotion (test stand-in)

English tweets labelled with six emotions (Saravia et al., EMNLP 2018), laid out as on the Hub.
"""
    files["README.md"] = card.encode()
    return files


def _json(record: dict) -> bytes:
    return (json.dumps(record, indent=2) + "\n").encode()


def _git_repo(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    git = ["git", "-C", str(folder), "-c", "user.name=course", "-c", "user.email=course@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "stand-in"]):
        subprocess.run(git + args, check=True, capture_output=True)


def olah_command() -> list[str]:
    """How to start olah: the launcher, run by `.venv-hub`'s Python (`make hub-venv`)."""
    python = HUB_VENV / "bin" / "python"
    if not python.is_file():
        raise RuntimeError(
            "olah, the Hub mirror the online tests use, is not installed: run `make hub-venv` "
            "(it creates .venv-hub with the pinned olah version)."
        )
    return [str(python), str(Path(__file__).with_name("olah_launcher.py"))]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(mirrors: Path, workdir: Path) -> Iterator[str]:
    """Run olah offline over the repos in `mirrors`; yields its URL and stops it by its PID."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cache = workdir / "olah-cache"
    config = workdir / "olah.toml"
    config.write_text(
        "[basic]\n"
        f'host = "127.0.0.1"\nport = {port}\n'
        f'repos-path = "{cache}"\nmirrors-path = ["{mirrors}"]\n'
        f'mirror-scheme = "http"\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\n'
        "[accessibility]\noffline = true\n"
    )
    log = (workdir / "olah.log").open("wb")
    process = subprocess.Popen(
        [*olah_command(), "-c", str(config)],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole below
    )
    try:
        _wait_until_up(url, process, workdir / "olah.log")
        for repo_type in ("models", "datasets"):
            for repo in _repo_ids(mirrors / repo_type):
                _seed_latest_revision(url, cache, repo_type, repo)
        yield url
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _repo_ids(folder: Path) -> list[str]:
    return sorted(
        str(git.parent.relative_to(folder)) for git in folder.glob("**/.git") if git.is_dir()
    )


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"olah stopped at start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(
                f"{url}/api/models/{ONLINE_MODEL}/revision/main", timeout=2
            ):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"olah did not answer within {START_SECONDS} s:\n{log.read_text()[-3000:]}")


def _seed_latest_revision(url: str, cache: Path, repo_type: str, repo: str) -> None:
    """Let olah answer `/api/{type}/{repo}` without a revision, which offline it reads from its cache."""
    with urllib.request.urlopen(
        f"{url}/api/{repo_type}/{repo}/revision/main", timeout=10
    ) as answer:
        meta = json.load(answer)
    meta.setdefault("lastModified", datetime.now(UTC).isoformat())
    folder = cache / "api" / repo_type / repo / "revision" / meta["sha"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta_head.json").write_text(json.dumps(meta))
