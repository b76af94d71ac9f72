"""Finishing a kept take for posting: captions and titles, a sound bed, aspect reframing, format, loops."""
