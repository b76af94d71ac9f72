"""Test environment: offline, quiet, and torch threads that do not spin on two shared cores."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real portrait photo (512x512 RGB uint8) from scikit-image."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """A real photo (600x400 RGB uint8) from scikit-image."""
    from skimage import data

    return data.coffee()
