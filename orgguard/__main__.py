import sys

from orgguard.cli import main

sys.exit(main())
