"""``python -m gan_tutorial``: the command line (see gan_tutorial.lessons.cli)."""
import sys

from .lessons.cli import main

if __name__ == "__main__":
    sys.exit(main())
