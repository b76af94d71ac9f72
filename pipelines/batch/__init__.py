"""Batch stage: a whole photo library to videos, on this machine or a Ray cluster, resumable.

    inputs    the photos of a folder, a glob or a text file of paths; output names
    manifest  OUT_DIR/manifest.jsonl: one row per input (ok / failed / skipped), written atomically
    item      one photo -> depth -> take(s) with their recipes; the same code in every kind of worker
    local     worker processes on this machine (the default)
    on_ray    Ray Data actors on a Ray cluster (optional: pip install 'ray[data]')
    driver    batch(): the entry point the CLI calls
    cli       the `python -m pipelines batch` command
"""
from pipelines.batch.driver import BatchReport, batch, make_job, run_batch
from pipelines.batch.inputs import output_stems, resolve_inputs
from pipelines.batch.manifest import MANIFEST_NAME, ManifestRow, read_manifest

__all__ = ["MANIFEST_NAME", "BatchReport", "ManifestRow", "batch", "make_job", "output_stems", "read_manifest",
           "resolve_inputs", "run_batch"]
