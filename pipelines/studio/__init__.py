"""The studio: one photo and words in, several takes out (the Python API behind the app).

    facade   Studio: the take loop of a click, planning, finishing kept takes
    photos   photos made ready once (depth) and fitted once per output size (scene), in LRUs
    outputs  per-request output folders; which files are this studio's takes
    stages   the typed seams to the depth stage, the scene, the take pipeline and generative pipelines
    prompt   words -> MotionPlan (which move, how strong)
    takes    the takes of one click (seed series or strength sweep), labels, the time estimate
"""
from pipelines.render.framing import ASPECTS, crop_box, fit, output_size
from pipelines.studio.facade import FinishResult, Studio, StudioResult, TakeResult
from pipelines.studio.photos import Fitted, Prepared, depth_preview
from pipelines.studio.stages import PARALLAX, Stages, engines
from pipelines.studio.takes import MAX_TAKES, VARY

__all__ = ["ASPECTS", "MAX_TAKES", "PARALLAX", "VARY", "FinishResult", "Fitted", "Prepared", "Stages", "Studio",
           "StudioResult", "TakeResult", "crop_box", "depth_preview", "engines", "fit", "output_size"]
