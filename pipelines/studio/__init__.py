"""The studio: one photo and words in, several takes out (the Python API behind the app).

    facade   Studio: photo intake, caches, output folders, planning, the take loop, finishing
    prompt   words -> MotionPlan (which move, how strong)
    takes    the takes of one click (seed series or strength sweep), labels, the time estimate
"""
from pipelines.render.framing import ASPECTS, crop_box, fit, output_size
from pipelines.studio.facade import (PARALLAX, FinishResult, Fitted, Prepared, Studio, StudioResult, TakeResult,
                                     depth_preview, engines)
from pipelines.studio.takes import MAX_TAKES, VARY

__all__ = ["ASPECTS", "MAX_TAKES", "PARALLAX", "VARY", "FinishResult", "Fitted", "Prepared", "Studio",
           "StudioResult", "TakeResult", "crop_box", "depth_preview", "engines", "fit", "output_size"]
