"""python-for-android recipe for msgspec (the receiver's typed messages, shared/messages.py).

msgspec is one C extension with no dependencies of its own, so the generic compiled-components
recipe builds it from the PyPI source archive with the NDK's compiler. Written for this project
and not yet built on a device (mobile_receiver/README.md lists what is untested on Android).
"""

from pythonforandroid.recipe import CompiledComponentsPythonRecipe


class MsgspecRecipe(CompiledComponentsPythonRecipe):
    version = "0.22.0"
    url = "https://files.pythonhosted.org/packages/source/m/msgspec/msgspec-{version}.tar.gz"
    depends = ["setuptools"]
    site_packages_name = "msgspec"
    call_hostpython_via_targetpython = False


recipe = MsgspecRecipe()
