"""The studio in the browser: the Hugging Face Space's app file.

``python app.py`` serves on 127.0.0.1:7860, or where ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` say
(as on a Space). The layout is :mod:`pipelines.ui.blocks`, the handlers :mod:`pipelines.ui.handlers`, the
work :mod:`pipelines.studio`. Importing this module loads no model and starts no server.
"""
from __future__ import annotations

import os
import threading

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything imports torch)
# On a ZeroGPU Space this imports `spaces`, which must come before anything initialises CUDA; elsewhere
# it imports nothing heavy.
from pipelines.generative import zerogpu
from pipelines import studio as studio_api
from pipelines.ui.blocks import build_demo, launch_kwargs

__all__ = ["build_demo", "launch_kwargs"]

if __name__ == "__main__":
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    studio = studio_api.Studio()
    # ZeroGPU only: load the generative engines whose weights are present, on "cuda", before launch.
    for engine, state in zerogpu.load_at_startup().items():
        print(f"generative engine {engine}: {state}", flush=True)
    demo = build_demo(studio)
    # Load the depth stack while the server starts, not during the first user's click.
    threading.Thread(target=studio.warm_up, name="warm-up", daemon=True).start()
    demo.launch(**launch_kwargs())
