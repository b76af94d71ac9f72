"""The photo-to-video studio: every capability as a Python API (the CLI and the app call these).

Importing this package is cheap: no torch, no models, no server. Heavy libraries load lazily inside the
functions that need them.
"""
import os

# Two cores are shared by torch, ffmpeg and the web server; torch's OpenMP threads must not spin-wait.
# This has to happen before torch is imported anywhere in the process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
