"""pages/_streamlit_compat.py: the Streamlit patches refuse a Streamlit they were not tested on."""
import pytest


def test_the_streamlit_patches_refuse_an_untested_streamlit():
    from core.versions import UntestedVersionError
    from pages._streamlit_compat import check_streamlit

    check_streamlit()  # requirements.txt's pin
    with pytest.raises(UntestedVersionError, match="Streamlit 1.99.0"):
        check_streamlit("1.99.0")
