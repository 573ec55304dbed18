"""Model cards and the registry of models in weights/ and runs/."""
