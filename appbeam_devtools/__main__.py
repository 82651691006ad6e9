"""``python -m appbeam_devtools``: the ``appbeam`` command without the installed script."""

import sys

from appbeam_devtools.cli import main

sys.exit(main())
