"""The one seam between the downloader and YouTube: a backend downloads one video.

A backend is any callable `download(youtube_id, dest_dir) -> path of a video file`
that raises Unavailable (permanent: private, removed, age- or region-restricted,
refused by bot detection, no usable stream) or Transient (worth retrying: network
errors and timeouts). The real backends also take `frame_size` (the smallest video
height wanted, in pixels) and `timeout` (seconds any network call may wait for an
answer). Tests pass a fake one.

Since 2024 YouTube serves progressive (video + audio) streams at 360p at most, and
for some videos not at all; the training data needs no audio, so a video-only
stream is as good (see choose_stream).
"""
import glob
import http.client
import inspect
import os
import re
import socket

from base.errors import UserError

NETWORK_TIMEOUT = 60
"""Seconds a network call may wait for an answer before it counts as Transient."""
LIBRARY_RETRIES = 3
"""Retries the download libraries make themselves inside one attempt."""
DEFAULT_FRAME_SIZE = 64
YOUTUBE_ID = re.compile(r'[A-Za-z0-9_-]{11}')
"""A YouTube video id: 11 characters of A-Z a-z 0-9 _ -, so also safe in a file name."""


class Unavailable(Exception):
    """The video cannot be had; `reason` is a short word for failures.csv."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


class Transient(Exception):
    """A network hiccup or a timeout: the same call may succeed later."""


def check_youtube_id(youtube_id):
    """Unavailable('bad-id') unless youtube_id is a YouTube video id (YOUTUBE_ID)."""
    if not isinstance(youtube_id, str) or not YOUTUBE_ID.fullmatch(youtube_id):
        raise Unavailable('bad-id', f'{youtube_id!r} is not a YouTube video id (expected 11'
                          ' characters of A-Z a-z 0-9 _ -)')


# --- choosing a stream (pure: works on any objects with pytubefix's attributes) ---

_CODEC_RANK = (('avc1', 0), ('vp09', 1), ('vp9', 1))
"""Codecs the opencv-python wheel decodes, best first; any other ranks after them."""


def stream_height(stream):
    """Frame height of a stream from its resolution ('360p'), else its height; None if
    it has neither."""
    match = re.match(r'(\d+)p', str(getattr(stream, 'resolution', None) or ''))
    if match:
        return int(match.group(1))
    height = getattr(stream, 'height', None)
    return height if isinstance(height, int) and height > 0 else None


def stream_codec(stream):
    """The video codec string of a stream ('avc1.4d401e', 'vp9', ...), lower case."""
    codec = getattr(stream, 'video_codec', None)
    if not codec:
        codecs = getattr(stream, 'codecs', None) or []
        codec = codecs[0] if codecs else ''
    return str(codec).lower()


def _has_video(stream):
    if hasattr(stream, 'includes_video_track'):
        return bool(stream.includes_video_track)
    return getattr(stream, 'type', None) == 'video' or bool(getattr(stream, 'is_progressive',
                                                                    False))


def _is_progressive_mp4(stream):
    return bool(getattr(stream, 'is_progressive', False)) and (
        getattr(stream, 'subtype', None) == 'mp4'
        or getattr(stream, 'mime_type', None) == 'video/mp4')


def _codec_rank(stream):
    codec = stream_codec(stream)
    return next((rank for prefix, rank in _CODEC_RANK if codec.startswith(prefix)),
                len(_CODEC_RANK))


def _size(stream):
    size = getattr(stream, 'filesize', None)
    return size if isinstance(size, (int, float)) and size > 0 else float('inf')


def choose_stream(streams, frame_size=DEFAULT_FRAME_SIZE):
    """The stream to download for frames at least `frame_size` pixels high:
    1. the smallest progressive mp4 at or above frame_size;
    2. else the smallest video-only stream at or above it, H.264 (avc1) before VP9
       before other codecs, then the smallest file;
    3. else the largest video stream below it.
    Unavailable('no-stream') when no stream has both a video track and a resolution."""
    video = [s for s in streams if _has_video(s) and stream_height(s)]
    if not video:
        raise Unavailable('no-stream', 'no stream with a video track and a known resolution')
    progressive = [s for s in video
                   if _is_progressive_mp4(s) and stream_height(s) >= frame_size]
    if progressive:
        return min(progressive, key=lambda s: (stream_height(s), _size(s)))
    adaptive = [s for s in video
                if not getattr(s, 'is_progressive', False) and stream_height(s) >= frame_size]
    if adaptive:
        return min(adaptive, key=lambda s: (stream_height(s), _codec_rank(s), _size(s)))
    return min(video, key=lambda s: (-stream_height(s), _codec_rank(s), _size(s)))


def _extension(stream):
    subtype = getattr(stream, 'subtype', None)
    return subtype if subtype in ('mp4', 'webm', '3gpp') else 'mp4'


def _supported(function, **kwargs):
    """kwargs that `function` accepts (so an older library without them still works)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}


# --- pytubefix ---

def _pytubefix_reason(err):
    from pytubefix import exceptions as ex
    table = [((ex.VideoPrivate,), 'private'),
             ((ex.VideoRemovedByUploader, ex.VideoRemovedByYouTubeForViolatingTOS,
               ex.AccountTerminated), 'removed'),
             ((ex.AgeRestrictedError, ex.AgeCheckRequiredError, ex.AgeCheckRequiredAccountError),
              'age-restricted'),
             ((ex.VideoRegionBlocked,), 'region-blocked'),
             ((ex.BotDetection, ex.PoTokenRequired, ex.LoginRequired), 'bot-detection'),
             ((ex.MembersOnly,), 'members-only')]
    for classes, reason in table:
        if isinstance(err, classes):
            return reason
    return 'unavailable'


def _default_socket_timeout(timeout):
    """pytubefix's page and API requests take no timeout argument and use the process
    default, which is 'wait forever' unless set: set it, unless the program has."""
    if socket.getdefaulttimeout() is None:
        socket.setdefaulttimeout(timeout)


def pytubefix_download(youtube_id, dest_dir, frame_size=DEFAULT_FRAME_SIZE,
                       timeout=NETWORK_TIMEOUT):
    """The stream choose_stream picks, through pytubefix (the pytube API); any other
    error of pytubefix is Unavailable('backend-error')."""
    check_youtube_id(youtube_id)
    from pytubefix import YouTube
    from pytubefix import exceptions as ex
    _default_socket_timeout(timeout)
    url = f'https://www.youtube.com/watch?v={youtube_id}'
    try:
        video = YouTube(url, **_supported(YouTube, timeout=timeout))
        try:
            stream = choose_stream(list(video.streams), frame_size)
        except Unavailable as err:
            raise Unavailable(err.reason, f'{youtube_id}: {err}') from None
        filename = f'{youtube_id}.{_extension(stream)}'
        path = stream.download(output_path=dest_dir, filename=filename,
                               **_supported(stream.download, timeout=timeout,
                                            max_retries=LIBRARY_RETRIES))
        return path or os.path.join(dest_dir, filename)
    except ex.VideoUnavailable as err:
        raise Unavailable(_pytubefix_reason(err), str(err)) from err
    except (OSError, http.client.HTTPException, ex.MaxRetriesExceeded) as err:
        # OSError includes socket timeouts (TimeoutError) and urllib's URLError
        what = (f'no answer within {timeout} s' if isinstance(err, TimeoutError)
                else str(err) or type(err).__name__)
        raise Transient(f'{youtube_id}: {what}') from err
    except ex.RegexMatchError as err:
        raise Unavailable('bad-id', f'{youtube_id}: {err}') from err
    except ex.PytubeFixError as err:
        raise Unavailable('backend-error', f'{youtube_id}: pytubefix: {type(err).__name__}:'
                          f' {err}') from err


# --- yt-dlp ---

_YTDLP_REASONS = [('private video', 'private'), ('removed', 'removed'),
                  ('terminated', 'removed'), ('confirm your age', 'age-restricted'),
                  ('age-restricted', 'age-restricted'), ('not available in your country',
                                                         'region-blocked'),
                  ("confirm you're not a bot", 'bot-detection'), ('members', 'members-only'),
                  ('requested format is not available', 'no-stream'),
                  ('unavailable', 'unavailable')]


def ytdlp_format(frame_size=DEFAULT_FRAME_SIZE):
    """yt-dlp's format selector for choose_stream's preferences."""
    at_least = f'[height>={int(frame_size)}]'
    return '/'.join([f'worst{at_least}[ext=mp4]',
                     f'worstvideo{at_least}[vcodec^=avc1]',
                     f'worstvideo{at_least}[vcodec^=vp09]', f'worstvideo{at_least}[vcodec^=vp9]',
                     f'worstvideo{at_least}', f'bestvideo[height<{int(frame_size)}]', 'worst'])


def ytdlp_download(youtube_id, dest_dir, frame_size=DEFAULT_FRAME_SIZE,
                   timeout=NETWORK_TIMEOUT):
    """The smallest suitable stream through yt-dlp (optional: `pip install yt-dlp`)."""
    check_youtube_id(youtube_id)
    import yt_dlp
    options = {'format': ytdlp_format(frame_size), 'quiet': True, 'noprogress': True,
               'socket_timeout': timeout, 'retries': LIBRARY_RETRIES,
               'fragment_retries': LIBRARY_RETRIES,
               'outtmpl': os.path.join(dest_dir, f'{youtube_id}.%(ext)s')}
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            ydl.download([f'https://www.youtube.com/watch?v={youtube_id}'])
    except yt_dlp.utils.DownloadError as err:
        text = str(err).lower()
        for needle, reason in _YTDLP_REASONS:
            if needle in text:
                raise Unavailable(reason, str(err)) from err
        raise Transient(str(err)) from err
    except OSError as err:
        raise Transient(f'{youtube_id}: {err}') from err
    files = [f for f in glob.glob(os.path.join(dest_dir, f'{youtube_id}.*'))
             if not f.endswith(('.part', '.ytdl'))]
    if not files:
        raise Transient(f'{youtube_id}: yt-dlp finished but wrote no file')
    return files[0]


BACKENDS = {'pytubefix': pytubefix_download, 'yt-dlp': ytdlp_download}


def get_backend(name):
    """The named backend, checking that its package imports."""
    module = {'pytubefix': 'pytubefix', 'yt-dlp': 'yt_dlp'}[name]
    try:
        __import__(module)
    except ImportError:
        raise UserError(f'--backend {name}: the package {module} is not installed'
                        f' (pip install {name})') from None
    return BACKENDS[name]
