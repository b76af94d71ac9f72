"""Tiny, randomly initialised versions of the generative backends, built from in-code configs.

They run the real diffusers pipelines end to end on a CPU in a fraction of a second and need no network
and no weights, so tests (ours and the studio's) can drive the generative engine from photo to MP4:

    pipe = generative_testing.tiny_pipeline("wan-vace")
    result = generative.generate("wan-vace", ..., pipe=pipe)

Their output is noise-like; only shapes, conventions and determinism are meaningful. Sizes: wan-vace
takes multiples of 16 px, animatediff-depth and svd multiples of 8 px; keep frames small (e.g. 9 x 32 x 32).
"""
from __future__ import annotations

from typing import Any


def _bytes_to_unicode() -> list[str]:
    """The 256 printable stand-ins for bytes that GPT-2/CLIP byte-level BPE vocabularies use."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def tiny_clip_tokenizer(model_max_length: int = 77):
    """A CLIP tokenizer with a 514-token byte vocabulary held in memory (no vocab files)."""
    from transformers import CLIPTokenizer

    chars = _bytes_to_unicode()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
    for c in chars:
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=model_max_length)


def tiny_t5_tokenizer(model_max_length: int = 512):
    """A character-level T5-style tokenizer (pad 0, eos 1, unk 2) built in memory with `tokenizers`; the
    hub's tiny test tokenizer is not reachable offline."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for code in range(32, 127):
        vocab.setdefault(chr(code), len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=model_max_length)


def _tiny_clip_text_encoder():
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                        intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                        vocab_size=1000, max_position_embeddings=77))


def tiny_wan_vace() -> Any:
    """WanVACEPipeline with diffusers' fast-test component sizes (VAE x8 spatial, x4 temporal; patch 2)."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanVACEPipeline, WanVACETransformer3DModel
    from transformers import T5Config, T5EncoderModel

    tokenizer = tiny_t5_tokenizer()
    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2,
                                           num_heads=4, relative_attention_num_buckets=8, pad_token_id=0,
                                           eos_token_id=1, decoder_start_token_id=0))
    torch.manual_seed(0)
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=3, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, vace_layers=[0, 2], vace_in_channels=96)
    pipe = WanVACEPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                           scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), transformer=transformer)
    return _ready(pipe)


def tiny_animatediff_depth() -> Any:
    """AnimateDiffVideoToVideoControlNetPipeline with a 4-level VAE (x8) and a ControlNet whose hint encoder
    downsamples x8 too (the two must agree)."""
    import torch
    from diffusers import (AnimateDiffVideoToVideoControlNetPipeline, AutoencoderKL, ControlNetModel, DDIMScheduler,
                           MotionAdapter, UNet2DConditionModel)

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=8, attention_head_dim=8)
    torch.manual_seed(0)
    controlnet = ControlNetModel(block_out_channels=(32, 64), layers_per_block=1, in_channels=4,
                                 down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), cross_attention_dim=32,
                                 conditioning_embedding_out_channels=(16, 16, 32, 32), norm_num_groups=8,
                                 attention_head_dim=8)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(32, 32, 64, 64), down_block_types=["DownEncoderBlock2D"] * 4,
                        up_block_types=["UpDecoderBlock2D"] * 4, latent_channels=4, norm_num_groups=8)
    torch.manual_seed(0)
    adapter = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=1, motion_norm_num_groups=8,
                            motion_num_attention_heads=4)
    torch.manual_seed(0)
    pipe = AnimateDiffVideoToVideoControlNetPipeline(
        unet=unet, controlnet=controlnet, vae=vae, motion_adapter=adapter,
        scheduler=DDIMScheduler(beta_schedule="linear", clip_sample=False), text_encoder=_tiny_clip_text_encoder(),
        tokenizer=tiny_clip_tokenizer(), feature_extractor=None, image_encoder=None)
    return _ready(pipe)


def tiny_svd() -> Any:
    """StableVideoDiffusionPipeline with a x8 temporal-decoder VAE; the CLIP image encoder keeps a 224 px
    input because the pipeline resizes PIL images to 224 before encoding them."""
    import torch
    from diffusers import (AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, StableVideoDiffusionPipeline,
                           UNetSpatioTemporalConditionModel)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32)
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 32, 64, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D"] * 4, latent_channels=4)
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224,
        patch_size=32, intermediate_size=37))
    scheduler = EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                       interpolation_type="linear", num_train_timesteps=1000,
                                       prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
                                       steps_offset=1, timestep_spacing="leading", timestep_type="continuous",
                                       trained_betas=None, use_karras_sigmas=True)
    feature_extractor = CLIPImageProcessor(crop_size=224, size=224, do_normalize=True,
                                           image_mean=[0.48145466, 0.4578275, 0.40821073],
                                           image_std=[0.26862954, 0.26130258, 0.27577711])
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=feature_extractor)
    return _ready(pipe)


TINY_BUILDERS = {"wan-vace": tiny_wan_vace, "animatediff-depth": tiny_animatediff_depth, "svd": tiny_svd}


def tiny_pipeline(backend: str) -> Any:
    """A tiny random pipeline of the same class as ``backend``'s real one, on the CPU in float32."""
    return TINY_BUILDERS[backend]()


def _ready(pipe):
    # Built modules start in training mode: dropout would make the same seed give different videos.
    for component in pipe.components.values():
        if hasattr(component, "eval"):
            component.eval()
    pipe.set_progress_bar_config(disable=True)
    from diffusers.utils import logging

    logging.set_verbosity_error()
    return pipe
