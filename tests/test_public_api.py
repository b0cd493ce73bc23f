import importlib
import types

import thresher


def test_all_matches_what_is_exported():
    exported = {name for name in dir(thresher)
                if not name.startswith("_") and not isinstance(getattr(thresher, name), types.ModuleType)}
    assert set(thresher.__all__) == exported - {"annotations"}


def test_select_is_the_function_not_the_package():
    assert callable(thresher.select)
    importlib.import_module("thresher.select.stability")  # importing a submodule must not rebind it
    assert callable(thresher.select)
