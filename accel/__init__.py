"""lowbit accel: the hardware model (tensor cores, systolic arrays, crossbars, memory) and the CLI."""
