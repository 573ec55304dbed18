"""The network: the residual U-Net factory, its losses and training metrics as registered Keras objects."""
