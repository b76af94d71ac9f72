"""The generative engine: diffusers video models that redraw a parallax take (GPU; weights)."""
