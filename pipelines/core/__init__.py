"""What every stage shares: typed errors, the one schema of knobs, photo intake, data paths, the recipe."""
