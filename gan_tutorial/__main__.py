"""``python -m gan_tutorial``: the command line (see gan_tutorial.cli)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
