"""Test-suite settings shared by the unit tests and the nbval notebook runs.

Quick mode is on unless GAN_TUTORIAL_QUICK is already set to a value, so ``pytest`` runs
every notebook in minutes. An empty value counts as unset (as gan_tutorial.config reads
it), so ``GAN_TUTORIAL_QUICK= pytest`` still gets quick mode. The notebook kernels
inherit this environment.
"""
import os

if not os.environ.get("GAN_TUTORIAL_QUICK", "").strip():
    os.environ["GAN_TUTORIAL_QUICK"] = "1"
