"""How each generative backend loads its weights and what it is fed: one small class per diffusers pipeline.

:mod:`pipelines.generative` plans the frame count and size, prepares :class:`ModelInputs` and runs the
call; the classes here only translate those inputs into the pipeline's own arguments and hold the real
``from_pretrained`` code users run. torch and diffusers are imported inside the methods.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.core.errors import InputError
from pipelines.core.schema import GenerativeModelPreset


@dataclass(frozen=True)
class ModelInputs:
    """One pass of a model, already at the frame count ``n`` and size ``h x w`` the model accepts.

    photo: (h, w, 3) uint8 RGB, the first frame. draft: (n, h, w, 3) uint8 RGB, the parallax take.
    control: (n, h, w) uint8 depth of the camera move as disparity, white = near (the ControlNet and VACE
    convention), normalised over the whole clip, not per frame, so brightness does not flicker.
    holes: (n, h, w) uint8, 255 where the camera reveals what the photo does not show.
    """

    photo: np.ndarray
    draft: np.ndarray
    control: np.ndarray
    holes: np.ndarray

    def __post_init__(self):
        n, h, w = self.control.shape
        for name, arr, shape in (("photo", self.photo, (h, w, 3)), ("draft", self.draft, (n, h, w, 3)),
                                 ("control", self.control, (n, h, w)), ("holes", self.holes, (n, h, w))):
            if arr.shape != shape or arr.dtype != np.uint8:
                raise InputError(f"model input {name} must be uint8 {shape}, got {arr.dtype} {arr.shape}")

    @property
    def num_frames(self) -> int:
        return int(self.control.shape[0])


@dataclass(frozen=True)
class CallOptions:
    """The studio's controls, resolved to numbers (preset defaults already applied)."""

    prompt: str
    negative_prompt: str
    strength: float
    num_inference_steps: int
    guidance_scale: float
    conditioning_scale: float


def _pil(frames: np.ndarray, gray: bool = False) -> list:
    """(n, h, w[, 3]) uint8 -> n PIL images; single-channel frames become RGB unless ``gray``."""
    from PIL import Image

    if frames.ndim == 3 and not gray:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    return [Image.fromarray(np.ascontiguousarray(f)) for f in frames]


def _dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


class Backend:
    """A diffusers pipeline behind the generative engine."""

    def load(self, preset: GenerativeModelPreset, sources: dict[str, str], dtype) -> Any:
        """Real ``from_pretrained`` code path; ``sources`` maps "repo" and component names to hub ids or
        local folders."""
        raise NotImplementedError

    def call_kwargs(self, inputs: ModelInputs, opts: CallOptions,
                    preset: GenerativeModelPreset) -> tuple[dict[str, Any], list[str]]:
        """Pipeline arguments (without generator and callbacks) and notices for the user; ``preset.settings``
        holds the documented call settings (see its citations)."""
        raise NotImplementedError

    def steps_run(self, kwargs: dict[str, Any], opts: CallOptions) -> int:
        """Denoising steps the call runs (what the GPU time and the progress bar are sized by)."""
        return opts.num_inference_steps


class WanVACE(Backend):
    """Wan2.1 VACE: the control video is the depth of the camera move, the photo is frame 0.

    VACE splits each frame of ``video`` by ``mask`` into kept pixels (mask 0, "inactive") and pixels to
    generate under the control shown there (mask 1, "reactive"). We pass the photo as frame 0 with mask 0,
    which pins the first frame to the photo exactly as the pipeline's own first/last-frame example does, and
    the depth images as frames 1..n-1 with mask 1, VACE's depth-control task. We do not pass the photo
    as ``reference_images``: a reference is an identity cue prepended to the latents and cut from the output,
    so it would not make the video start on the photo. Holes need no mask of their own here: every frame after
    the first is generated, and the depth images already cover the regions the camera reveals.
    """

    def load(self, preset, sources, dtype):
        import torch
        from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline

        repo = sources["repo"]
        # The Wan VAE loses detail in half precision; the model card example keeps it in float32.
        vae = AutoencoderKLWan.from_pretrained(repo, subfolder="vae", dtype=torch.float32)
        pipe = WanVACEPipeline.from_pretrained(repo, vae=vae, dtype=dtype)
        if isinstance(pipe.scheduler, UniPCMultistepScheduler):
            # flow_shift 3.0 is the documented value for 480P (5.0 is for 720P, which 1.3B does not do).
            pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config,
                                                                 flow_shift=float(preset.settings["flow_shift"]))
        return pipe

    def call_kwargs(self, inputs, opts, preset):
        n, h, w = inputs.control.shape
        video = np.repeat(inputs.control[..., None], 3, axis=-1)
        video[0] = inputs.photo
        mask = np.full((n, h, w), 255, np.uint8)
        mask[0] = 0
        notices = ["wan-vace generates every frame after the first, so motion strength does not change the "
                   "model's freedom; the size of the camera move is in the depth maps"]
        kwargs = dict(video=_pil(video), mask=_pil(mask, gray=True), prompt=opts.prompt,
                      negative_prompt=opts.negative_prompt, height=h, width=w, num_frames=n,
                      num_inference_steps=opts.num_inference_steps, guidance_scale=opts.guidance_scale,
                      conditioning_scale=opts.conditioning_scale, output_type="np")
        return kwargs, notices


class AnimateDiffDepth(Backend):
    """AnimateDiff video-to-video with a depth ControlNet over SD 1.5: the parallax frames are the initial
    video, the depth images the control, and the motion strength is the denoising ``strength`` (how far
    the model may move away from the draft)."""

    def load(self, preset, sources, dtype):
        from diffusers import (AnimateDiffVideoToVideoControlNetPipeline, ControlNetModel, DDIMScheduler,
                               MotionAdapter)

        adapter = MotionAdapter.from_pretrained(sources["motion_adapter"], dtype=dtype)
        controlnet = ControlNetModel.from_pretrained(sources["controlnet"], dtype=dtype)
        pipe = AnimateDiffVideoToVideoControlNetPipeline.from_pretrained(
            sources["repo"], motion_adapter=adapter, controlnet=controlnet, dtype=dtype)
        # The scheduler settings the AnimateDiff authors use with the SD 1.5 motion modules.
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config, beta_schedule="linear",
                                                   clip_sample=False, timestep_spacing="linspace", steps_offset=1)
        return pipe

    def call_kwargs(self, inputs, opts, preset):
        n, h, w = inputs.control.shape
        notices = []
        strength = opts.strength
        # img2img runs int(steps * strength) steps; below one step the pipeline has nothing to do.
        min_strength = 1.0 / opts.num_inference_steps
        if strength < min_strength:
            notices.append(f"animatediff-depth: strength {strength:g} runs no denoising step at "
                           f"{opts.num_inference_steps} steps; raised to {min_strength:g}")
            strength = min_strength
        kwargs = dict(video=_pil(inputs.draft), conditioning_frames=_pil(inputs.control), prompt=opts.prompt,
                      negative_prompt=opts.negative_prompt or None, height=h, width=w, strength=strength,
                      num_inference_steps=opts.num_inference_steps, guidance_scale=opts.guidance_scale,
                      controlnet_conditioning_scale=opts.conditioning_scale,
                      decode_chunk_size=int(preset.settings.get("decode_chunk_size", 16)), output_type="np")
        return kwargs, notices

    def steps_run(self, kwargs, opts):
        # img2img skips the first (1 - strength) of the schedule: diffusers runs int(steps * strength) steps.
        return max(1, int(opts.num_inference_steps * kwargs["strength"]))


class StableVideo(Backend):
    """Stable Video Diffusion: the photo alone sets the video; motion strength sets ``motion_bucket_id``.
    No camera control and no prompt: the depth maps and the draft are not used."""

    def load(self, preset, sources, dtype):
        import torch
        from diffusers import StableVideoDiffusionPipeline

        variant = "fp16" if dtype == torch.float16 else None
        return StableVideoDiffusionPipeline.from_pretrained(sources["repo"], dtype=dtype, variant=variant)

    def call_kwargs(self, inputs, opts, preset):
        n, h, w = inputs.control.shape
        notices = ["svd follows no camera path: the video's motion comes from the photo alone"]
        if opts.prompt or opts.negative_prompt:
            notices.append("svd takes no text prompt; the prompt was not used")
        from PIL import Image

        bucket, noise_aug = svd_motion(opts.strength, preset.settings)
        kwargs = dict(image=Image.fromarray(inputs.photo), height=h, width=w, num_frames=n,
                      num_inference_steps=opts.num_inference_steps, min_guidance_scale=1.0,
                      max_guidance_scale=opts.guidance_scale, fps=int(preset.settings.get("fps", 7)),
                      motion_bucket_id=bucket, noise_aug_strength=noise_aug,
                      decode_chunk_size=int(preset.settings.get("decode_chunk_size", 8)), output_type="np")
        return kwargs, notices


def svd_motion(strength: float, settings: dict) -> tuple[int, float]:
    """The studio's motion strength (0..1) as SVD's micro-conditioning (motion_bucket_id 1..255,
    noise_aug_strength): strength 0.5 is the pipeline's default pair (127, 0.02), 0 and 1 the bucket's ends.
    Noise augmentation follows the docs' two pairs, (127, 0.02) and "more motion" (180, 0.1): linear between
    them, held outside, because more noise also loosens the likeness to the photo."""
    mid = int(settings.get("motion_bucket_id", 127))
    if strength <= 0.5:
        bucket = 1 + (mid - 1) * strength / 0.5
    else:
        bucket = mid + (255 - mid) * (strength - 0.5) / 0.5
    bucket = int(round(bucket))
    lo_b, lo_n = mid, float(settings.get("noise_aug_strength", 0.02))
    hi_b, hi_n = int(settings.get("more_motion_bucket_id", 180)), float(settings.get("more_noise_aug_strength", 0.1))
    frac = min(1.0, max(0.0, (bucket - lo_b) / (hi_b - lo_b)))
    return bucket, round(lo_n + frac * (hi_n - lo_n), 4)


BACKEND_CLASSES: dict[str, type[Backend]] = {
    "WanVACEPipeline": WanVACE,
    "AnimateDiffVideoToVideoControlNetPipeline": AnimateDiffDepth,
    "StableVideoDiffusionPipeline": StableVideo,
}


def backend_for(preset: GenerativeModelPreset) -> Backend:
    try:
        return BACKEND_CLASSES[preset.pipeline]()
    except KeyError:
        raise InputError(f"model preset {preset.name!r} names pipeline {preset.pipeline!r}; supported: "
                         f"{', '.join(BACKEND_CLASSES)}") from None


def torch_dtype(preset: GenerativeModelPreset, device: str):
    """The preset's dtype for this device type ("cuda:1" counts as "cuda")."""
    kind = device.split(":")[0]
    return _dtype(preset.dtype.get(kind, "float32"))
