"""The pytubefix backend maps the library's own exceptions to reasons and picks a
stream it can use (no network: pytubefix.YouTube is replaced by fakes)."""
import socket
from types import SimpleNamespace

import pytest

pytubefix = pytest.importorskip('pytubefix')
from pytubefix import exceptions as ex  # noqa: E402

from datastream import backends  # noqa: E402
from base.errors import UserError  # noqa: E402


@pytest.fixture(autouse=True)
def keep_socket_default_timeout():
    """pytubefix_download sets the process's default socket timeout; undo it."""
    before = socket.getdefaulttimeout()
    yield
    socket.setdefaulttimeout(before)


def stream(resolution, codec, progressive=False, subtype='mp4', size=1000, kind='video'):
    """A stand-in for a pytubefix Stream: the attributes choose_stream reads."""
    codecs = [codec, 'mp4a.40.2'] if progressive else [codec]
    return SimpleNamespace(
        is_progressive=progressive, includes_video_track=progressive or kind == 'video',
        type=kind, resolution=resolution, video_codec=codec if kind == 'video' else None,
        codecs=codecs, mime_type=f'{kind}/{subtype}', subtype=subtype, filesize=size)


TODAY = [stream('360p', 'avc1.42001E', progressive=True),
         stream(None, 'mp4a.40.2', kind='audio', subtype='mp4'),
         stream('144p', 'av01.0.00M.08', size=100), stream('144p', 'avc1.4d400c', size=300),
         stream('240p', 'vp9', subtype='webm', size=400),
         stream('240p', 'avc1.4d4015', size=500), stream('480p', 'avc1.4d401e', size=900)]
NO_PROGRESSIVE = [s for s in TODAY if not s.is_progressive]


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
        with pytest.raises(UserError, match='yt_dlp is not installed'):
            backends.get_backend('yt-dlp')


def test_stream_choice_prefers_progressive_then_small_h264_video_only():
    choose = backends.choose_stream
    assert choose(TODAY, 64) is TODAY[0], 'progressive mp4 at or above the size'
    assert choose(TODAY, 400) is TODAY[-1], 'progressive too small: video-only 480p'
    assert choose(NO_PROGRESSIVE, 64) is NO_PROGRESSIVE[2], 'smallest >= 64: 144p, H.264'
    assert choose(NO_PROGRESSIVE, 200) is NO_PROGRESSIVE[4], '240p: H.264 before VP9'
    without_h264 = [s for s in NO_PROGRESSIVE if not s.video_codec or 'avc1' not in s.video_codec]
    assert choose(without_h264, 200).video_codec == 'vp9'
    assert choose(NO_PROGRESSIVE, 720) is NO_PROGRESSIVE[-1], 'none big enough: the largest'


def test_no_usable_stream_is_unavailable():
    audio_only = [stream(None, 'mp4a.40.2', kind='audio'), stream(None, 'opus', kind='audio')]
    with pytest.raises(backends.Unavailable) as err:
        backends.choose_stream(audio_only, 64)
    assert err.value.reason == 'no-stream'
    with pytest.raises(backends.Unavailable, match='no stream with a video track'):
        backends.choose_stream([], 64)


class FakeVideo:
    """pytubefix.YouTube stand-in whose streams record how they are downloaded."""

    def __init__(self, streams, error=None):
        self.streams, self.downloads = streams, []
        for item in streams:
            item.download = self.download_as(item, error)

    def download_as(self, item, error):
        def download(output_path=None, filename=None, timeout=None, max_retries=0):
            self.downloads.append((item, filename, timeout, max_retries))
            if error:
                raise error
            return f'{output_path}/{filename}'
        return download


def test_download_passes_timeouts_and_a_timeout_is_transient(monkeypatch, tmp_path):
    video = FakeVideo(list(NO_PROGRESSIVE))
    monkeypatch.setattr(pytubefix, 'YouTube', lambda url: video)
    path = backends.pytubefix_download('vid12345678', str(tmp_path), frame_size=200, timeout=7)
    chosen, filename, timeout, retries = video.downloads[0]
    assert chosen is NO_PROGRESSIVE[4] and path.endswith('/vid12345678.mp4')
    assert timeout == 7 and retries == backends.LIBRARY_RETRIES
    assert socket.getdefaulttimeout() == 7, 'page requests of pytubefix time out too'
    hanging = FakeVideo([stream('240p', 'vp9', subtype='webm')], error=TimeoutError('timed out'))
    monkeypatch.setattr(pytubefix, 'YouTube', lambda url: hanging)
    with pytest.raises(backends.Transient, match='no answer within 7 s'):
        backends.pytubefix_download('vid12345678', str(tmp_path), timeout=7)
    assert hanging.downloads[0][1] == 'vid12345678.webm'
    monkeypatch.setattr(pytubefix, 'YouTube', lambda url: FakeVideo([]))
    with pytest.raises(backends.Unavailable, match='vid12345678: no stream'):
        backends.pytubefix_download('vid12345678', str(tmp_path))


@pytest.mark.parametrize('youtube_id', ['short', 'vid123456789', '../../x.mp4', 'vid1234567%'])
def test_an_id_that_is_not_a_youtube_id_never_reaches_the_library(monkeypatch, tmp_path,
                                                                   youtube_id):
    def never_called(url):
        raise AssertionError('no request may start')
    monkeypatch.setattr(pytubefix, 'YouTube', never_called)
    for download in (backends.pytubefix_download, backends.ytdlp_download):
        with pytest.raises(backends.Unavailable, match='not a YouTube video id') as err:
            download(youtube_id, str(tmp_path))
        assert err.value.reason == 'bad-id'


@pytest.mark.parametrize('error, reason', [
    (ex.RegexMatchError('video_id', r'(?:v=|\/)([0-9A-Za-z_-]{11}).*'), 'bad-id'),
    (ex.HTMLParseError('cannot parse the page'), 'backend-error')])
def test_other_errors_of_the_library_fail_that_video_alone(monkeypatch, tmp_path, error, reason):
    def fake_youtube(url):
        raise error
    monkeypatch.setattr(pytubefix, 'YouTube', fake_youtube)
    with pytest.raises(backends.Unavailable) as err:
        backends.pytubefix_download('vid12345678', str(tmp_path))
    assert err.value.reason == reason and 'vid12345678' in str(err.value)
