import sys

from fastlr.cli import main

sys.exit(main())
