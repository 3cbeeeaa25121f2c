import sys

from guichet_cli.main import main

sys.exit(main())
