// Layers and optimizers land here.
