"""``python -m chiplet_dse`` is the ``chiplet-dse`` command."""

import sys

from chiplet_dse.cli import main

sys.exit(main())
