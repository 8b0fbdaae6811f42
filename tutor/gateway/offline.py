"""Keep litellm and Hugging Face libraries from reaching for the network.

The tutor runs offline by default: litellm would otherwise fetch its model
cost map at import time and Hugging Face libraries would look for model
updates. `setdefault` leaves a user's explicit choice alone.
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "LITELLM_OFFLINE_MODE": "true",
    # older litellm spelling of the same switch: use the bundled cost map
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def apply() -> None:
    """Set the offline switches unless the user already set them; call before importing litellm."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
