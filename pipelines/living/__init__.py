"""Living photos: regions of a photo that move (flow, sway, ripple, rise) while the rest stays still.

- :mod:`pipelines.living.spec`: the regions and the MOTION.json contract (limits defined once).
- :mod:`pipelines.living.animate`: the Eulerian motion field, its symmetric integration (the loop closes)
  and the per-frame displaced photo; :mod:`~pipelines.living.field` (masks feathered, directions bent by
  strokes) and :mod:`~pipelines.living.blend` (a cross-fade that keeps the texture's contrast) serve it.
- :mod:`pipelines.living.regions`: regions found from words (the sky, water) and the plan that says so.
- :mod:`pipelines.living.warp`: the regions' motion inside the camera renderer's own resample of each layer.
- :mod:`pipelines.living.frames`: a living photo along a camera path (a cinemagraph when the camera is still).
"""
from pipelines.living.spec import (MAX_REGIONS, MOTION_TYPES, Motion, MotionRegionSpec, MotionSpec, Region,
                                   load_motion, motion_from_regions, save_motion)
from pipelines.living.animate import LivingPhoto, animate
from pipelines.living import frames

__all__ = ["MAX_REGIONS", "MOTION_TYPES", "Motion", "MotionRegionSpec", "MotionSpec", "Region", "load_motion",
           "motion_from_regions", "save_motion", "LivingPhoto", "animate"]
