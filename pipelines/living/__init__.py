"""Living photos: regions of a photo that move (flow, sway, ripple, rise) while the rest stays still.

- :mod:`pipelines.living.spec`: the regions and the MOTION.json contract (limits defined once).
- :mod:`pipelines.living.animate`: the Eulerian motion field, its symmetric integration (the loop closes)
  and the per-frame displaced photo.
- :mod:`pipelines.living.regions`: regions found from words (the sky, water) and the plan that says so.
"""
from pipelines.living.spec import (MAX_REGIONS, MOTION_TYPES, Motion, MotionRegionSpec, MotionSpec, Region,
                                   load_motion, motion_from_regions, save_motion)
from pipelines.living.animate import LivingPhoto, animate
from pipelines.living import frames

__all__ = ["MAX_REGIONS", "MOTION_TYPES", "Motion", "MotionRegionSpec", "MotionSpec", "Region", "load_motion",
           "motion_from_regions", "save_motion", "LivingPhoto", "animate"]
