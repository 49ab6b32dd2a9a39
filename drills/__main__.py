"""`python -m drills`: see drills/run.py."""

import sys

from drills.run import main

sys.exit(main())
