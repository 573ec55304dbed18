"""pages/_streamlit_compat.py: the Streamlit patches refuse a Streamlit they were not tested on."""
import pytest


def test_the_streamlit_patches_refuse_an_untested_streamlit():
    from core.versions import UntestedVersionError
    from pages._streamlit_compat import check_streamlit

    check_streamlit()  # requirements.txt's pin
    with pytest.raises(UntestedVersionError, match="Streamlit 1.99.0"):
        check_streamlit("1.99.0")


def test_sessions_that_expire_are_shut_down_and_reconnected_ones_are_not():
    """The hook on Streamlit's own session storage: a session past its reconnect window is shut down (its uploads
    and media files freed) whether the periodic expiry or another session's write takes it out; one deleted
    because its tab reconnected is left alone, and one still inside its window stays."""
    import threading
    import time

    from streamlit.runtime.memory_session_storage import MemorySessionStorage
    from streamlit.runtime.session_manager import SessionInfo

    from pages._streamlit_compat import expire_stored_sessions, shut_down_on_expiry

    class Session:
        def __init__(self, sid):
            self.id, self.shut = sid, False

        def shutdown(self):
            self.shut = True

    class Manager:
        _storage_lock = threading.Lock()
        _session_storage = MemorySessionStorage(ttl_seconds=0.2)

    class Runtime:
        _session_mgr = Manager()

    storage = Manager._session_storage
    shut_down_on_expiry(storage, lambda fn, *args: fn(*args))
    a, b, c = (Session(x) for x in "abc")
    storage.save(SessionInfo(client=None, session=a))
    storage.save(SessionInfo(client=None, session=b))
    storage.delete("b")  # its tab came back: Streamlit resumes it
    time.sleep(0.3)
    storage.save(SessionInfo(client=None, session=c))  # a write drops the expired a
    assert a.shut and not b.shut and not c.shut
    time.sleep(0.3)
    assert expire_stored_sessions(Runtime()) == 1 and c.shut  # the periodic expiry, with no write to wait for
    assert storage.list() == []
