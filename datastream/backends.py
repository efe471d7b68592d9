"""The one seam between the downloader and YouTube: a backend downloads one video.

A backend is any callable `download(youtube_id, dest_dir) -> path of a video file`
that raises Unavailable (permanent: private, removed, age- or region-restricted,
refused by bot detection) or Transient (worth retrying). Tests pass a fake one.
"""
import glob
import os


class Unavailable(Exception):
    """The video cannot be had; `reason` is a short word for failures.csv."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


class Transient(Exception):
    """A network hiccup: the same call may succeed later."""


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


def pytubefix_download(youtube_id, dest_dir):
    """Lowest-resolution progressive mp4 through pytubefix (the pytube API)."""
    from pytubefix import YouTube
    from pytubefix import exceptions as ex
    try:
        video = YouTube(f'https://www.youtube.com/watch?v={youtube_id}')
        streams = video.streams.filter(progressive=True, file_extension='mp4')
        stream = streams.order_by('resolution').first()
        if stream is None:
            raise Unavailable('no-stream', f'{youtube_id}: no progressive mp4 stream')
        return stream.download(output_path=dest_dir, filename=f'{youtube_id}.mp4')
    except ex.VideoUnavailable as err:
        raise Unavailable(_pytubefix_reason(err), str(err)) from err
    except (OSError, ex.MaxRetriesExceeded) as err:
        raise Transient(str(err)) from err


_YTDLP_REASONS = [('private video', 'private'), ('removed', 'removed'),
                  ('terminated', 'removed'), ('confirm your age', 'age-restricted'),
                  ('age-restricted', 'age-restricted'), ('not available in your country',
                                                         'region-blocked'),
                  ("confirm you're not a bot", 'bot-detection'), ('members', 'members-only'),
                  ('unavailable', 'unavailable')]


def ytdlp_download(youtube_id, dest_dir):
    """Smallest mp4 through yt-dlp (optional: `pip install yt-dlp`)."""
    import yt_dlp
    options = {'format': 'worst[ext=mp4]/worst', 'quiet': True, 'noprogress': True,
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
    return glob.glob(os.path.join(dest_dir, f'{youtube_id}.*'))[0]


BACKENDS = {'pytubefix': pytubefix_download, 'yt-dlp': ytdlp_download}


def get_backend(name):
    """The named backend, checking that its package imports."""
    module = {'pytubefix': 'pytubefix', 'yt-dlp': 'yt_dlp'}[name]
    try:
        __import__(module)
    except ImportError:
        raise SystemExit(f'error: --backend {name}: the package {module} is not installed'
                         f' (pip install {name})') from None
    return BACKENDS[name]
