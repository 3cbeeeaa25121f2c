import sys

from guichet_tools.cli import main

sys.exit(main())
