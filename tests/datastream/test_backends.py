"""The pytubefix backend maps the library's own exceptions to reasons (no network:
pytubefix.YouTube is replaced by a fake that raises them)."""
import pytest

pytubefix = pytest.importorskip('pytubefix')
from pytubefix import exceptions as ex  # noqa: E402

from datastream import backends  # noqa: E402


@pytest.mark.parametrize('error,reason', [
    (ex.VideoPrivate, 'private'), (ex.VideoRemovedByUploader, 'removed'),
    (ex.AgeRestrictedError, 'age-restricted'), (ex.VideoRegionBlocked, 'region-blocked'),
    (ex.BotDetection, 'bot-detection'), (ex.VideoUnavailable, 'unavailable')])
def test_unavailable_videos_carry_the_reason(monkeypatch, tmp_path, error, reason):
    def fake_youtube(url):
        raise error('vid12345678')
    monkeypatch.setattr(pytubefix, 'YouTube', fake_youtube)
    with pytest.raises(backends.Unavailable) as err:
        backends.pytubefix_download('vid12345678', str(tmp_path))
    assert err.value.reason == reason


def test_network_errors_are_transient(monkeypatch, tmp_path):
    def fake_youtube(url):
        raise ConnectionResetError('reset by peer')
    monkeypatch.setattr(pytubefix, 'YouTube', fake_youtube)
    with pytest.raises(backends.Transient):
        backends.pytubefix_download('vid12345678', str(tmp_path))


def test_missing_backend_package_is_a_clear_error():
    try:
        import yt_dlp  # noqa: F401
        pytest.skip('yt-dlp is installed here')
    except ImportError:
        with pytest.raises(SystemExit, match='yt_dlp is not installed'):
            backends.get_backend('yt-dlp')
