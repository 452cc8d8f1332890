"""Run and file plumbing: checkpoints, locks, signals, processes, devices and precision, caches, MNIST file checks, environment switches."""
