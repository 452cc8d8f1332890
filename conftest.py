"""Test-suite settings shared by the unit tests and the nbval notebook runs.

Quick mode is on unless GAN_TUTORIAL_QUICK is already set, so ``pytest`` runs every
notebook in minutes. The notebook kernels inherit this environment.
"""
import os

os.environ.setdefault("GAN_TUTORIAL_QUICK", "1")
