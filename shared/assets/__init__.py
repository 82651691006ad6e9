"""Files that ship inside the packages, and a real path to one for code that needs a file name.

Each file lives in the package that uses it: the store's stylesheet and the demo apps' icons
in ``relay_server/static``, and here the one file several parts show, the Appbeam logo (the
store's brand and favicon, the phone's login screen, the APK's icon). They are found through
``importlib.resources``, never from ``__file__`` and the repository's layout, so that an
installed wheel or an APK finds them where it put them. ``assets/make_icons.py`` draws them.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

# A resource inside a zip import is copied out by as_file; the copies stay until the process ends.
_kept = ExitStack()
atexit.register(_kept.close)


def real_path(resource: Traversable) -> Path:
    """A file-system path to a packaged file or folder, valid for as long as the process runs.

    For an installed package (a wheel, an editable install, an APK) this is the file itself;
    Flask's static folder and Kivy's image sources need such a path, not a resource object.
    """
    return _kept.enter_context(as_file(resource))


#: The Appbeam logo, 192x192 PNG.
LOGO = real_path(files(__package__) / "appbeam.png")
