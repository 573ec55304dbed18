"""core.versions and the compat modules: a library patch refuses a version it was not tested on, loudly."""
import pytest

from core.training import keras_compat
from core.versions import UntestedVersionError, require_tested


def test_only_the_tested_major_minor_passes():
    require_tested("Lib", "3.15.1", ("3.15",), "run its test")
    require_tested("Lib", "3.15", ("3.14", "3.15"), "run its test")
    for version in ("3.16.0", "4.15.0", "3.1.5"):
        with pytest.raises(UntestedVersionError, match=f"Lib {version}: run its test"):
            require_tested("Lib", version, ("3.15",), "run its test")


def test_the_installed_keras_is_the_tested_one_and_another_is_refused():
    keras_compat.check_keras()  # requirements.txt's pin
    with pytest.raises(UntestedVersionError, match="Keras 3.99.0"):
        keras_compat.check_keras("3.99.0")
