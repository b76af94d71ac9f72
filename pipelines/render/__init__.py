"""The parallax engine: camera paths, the layered scene and its frames, output framing, video encoding, and
the one take pipeline (``take.render_take``) that every caller goes through."""
