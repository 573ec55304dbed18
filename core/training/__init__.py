"""Training: settings, run folder, data preparation, batches, the fit loop, finishing a run, and background jobs."""
