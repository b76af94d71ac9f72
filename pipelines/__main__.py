"""`python -m pipelines ...`: the command-line skin over the Python API."""
from pipelines.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
