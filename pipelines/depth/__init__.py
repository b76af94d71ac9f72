"""Depth stage: photo -> DepthMap (z-depth), estimated by a learned model or the classical fallback,
imported from a file, or edited.

    maps      the DepthMap type, depth files in and out
    estimate  estimators (learned, classical), their registry and the on-disk cache
    edit      push / contrast / near-far edits, edge fattening, the preview picture
    classical the no-weights estimator
    models    learned estimators through transformers and controlnet-aux
"""
from pipelines.depth.edit import adjust, apply_settings, fatten_edges, load_mask, preview
from pipelines.depth.estimate import (CACHE_MAX_MB, DEFAULT_MODEL, ESTIMATORS, MAX_ESTIMATE_SIDE, EstimatorInfo,
                                      estimate, estimator_info)
from pipelines.depth.maps import RELATIVE_FAR, RELATIVE_NEAR, DepthMap, load_depth, save_depth_png

__all__ = ["CACHE_MAX_MB", "DEFAULT_MODEL", "ESTIMATORS", "MAX_ESTIMATE_SIDE", "RELATIVE_FAR", "RELATIVE_NEAR",
           "DepthMap", "EstimatorInfo", "adjust", "apply_settings", "estimate", "estimator_info", "fatten_edges",
           "load_depth", "load_mask", "preview", "save_depth_png"]
