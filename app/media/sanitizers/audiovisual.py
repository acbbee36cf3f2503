"""Audio and video (MP3, M4A, WAV, FLAC, Ogg, MP4, MOV, WebM): remuxed with PyAV into a
new file of the same type, carrying audio and video streams and nothing else.

Default path (no re-encoding, ``av_remux``): only audio and moving-picture streams are
kept (cover art, subtitles, data, timecode and attachment streams go); no container or
stream tags or chapters are written; the muxer runs bitexact (zero MP4 creation times,
no version strings, deterministic Ogg serials and Matroska UIDs). Below the muxer
(``av_units``): H.264/HEVC SEI units (packets and global headers) and AV1 metadata
OBUs are filtered out; a Vorbis comment header inside a global header is emptied; MP3
and ADTS frames are cut to their declared length (junk between frames goes) and AAC
filler naming the encoder is zeroed; packet side data is dropped except sample
skipping. Two things the muxers always write are blanked in place afterwards: MP4's
empty ``udta`` box (becomes ``free``) and FLAC's vendor-only comment block (becomes
padding). Codecs that could carry metadata in frames (MJPEG, for one) are re-encoded
instead of copied (``av_encode``), as are voices to alter (pitch shift, see
``av_encode.PITCH_FACTOR``) and videos whose faces must be masked (``av_mask``).

Kinds written to ``report.removed`` (counted on the upload; cleaning never depends on
them): ``container.metadata``, ``stream.metadata``, ``location``, ``chapters``,
``cover_art``, ``data_streams``, ``subtitle_streams``, ``video_streams`` (pictures in
a sound file), ``id3v2``, ``id3v1``, ``apev2``, ``lyrics3``, ``vorbis_comment``,
``riff.info``, ``riff.bext``, ``riff.ixml``, ``riff.<chunk>``, ``flac.<block>``,
``mp4.udta``, ``mp4.meta``, ``mp4.uuid`` (XMP) and other ``mp4.<box>``,
``mp4.creation_time``, ``audio.trailing_data`` (bytes between MP3 or ADTS
frames), ``aac.filler`` (an encoder's name in AAC filler), ``h264.sei``,
``hevc.sei``, ``av1.metadata``.
"""

from __future__ import annotations

from pathlib import Path

from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.stream import Stream
from av.video.stream import VideoStream

from app.media import av_bytes, isobmff
from app.media.av_encode import PITCH_FACTOR, AudioEncodeJob, VideoEncodeJob
from app.media.av_mask import FaceMaskStage
from app.media.av_remux import (
    COPYABLE,
    OUTPUT_FORMAT,
    CopyJob,
    Job,
    check_limits,
    codec_name,
    display_rotation,
    kept_streams,
    open_input,
    open_output,
    pump,
)
from app.media.av_scan import removals, residue
from app.media.base import Options, Sanitizer, register
from app.media.errors import MediaFault
from app.media.report import Report
from app.media.types import Family, MediaType

VOICE_NOTE = (
    "Voice alteration protects against casual recognition only: a pitch shift can be "
    "partly reversed. It does not make a voice anonymous."
)
REENCODED_NOTE = "A stream was re-encoded because its format can carry hidden data in its frames."
_UNIT_KINDS = {
    "h264": "h264.sei",
    "hevc": "hevc.sei",
    "av1": "av1.metadata",
    "vorbis": "vorbis_comment",
}
_ISO_FORMATS = frozenset({"mp4", "mov", "ipod"})


class AudioVisualSanitizer(Sanitizer):
    """Podcasts and performance videos (see the module docstring)."""

    media_types = frozenset(
        {
            MediaType.MP3,
            MediaType.M4A,
            MediaType.WAV,
            MediaType.FLAC,
            MediaType.OGG,
            MediaType.MP4,
            MediaType.MOV,
            MediaType.WEBM,
        }
    )

    def sanitize(
        self,
        source: Path,
        destination: Path,
        media_type: MediaType,
        options: Options,
        report: Report,
    ) -> None:
        """Write the remuxed (or re-encoded) file to ``destination``.

        Raises ``MediaRefused`` for a damaged file, one with nothing to keep, or one
        over the duration or picture limits; ``MediaFault`` when an encoder or a
        detector this installation needs is missing.
        """
        fmt = OUTPUT_FORMAT[media_type]
        video = media_type.family is Family.VIDEO
        masker = None
        with open_input(source, media_type) as container:
            kept = kept_streams(container, media_type)
            check_limits(container, kept, options.limits)
            if video and options.mask_faces:
                pictures = [s for s in kept if s.type == "video"]
                masker = FaceMaskStage(pictures[0].average_rate or pictures[0].guessed_rate)
            for kind, count in removals(container, source, media_type).items():
                report.remove(kind, count)
            with open_output(destination, media_type) as output:
                jobs = {
                    s.index: _job(s, output, fmt, options, masker, (source, media_type))
                    for s in kept
                }
                pump(container, output, jobs, media_type, options.limits)
        _blank_forced_tags(destination, fmt)
        _record(jobs, report, options)
        if masker is not None:
            report.anonymised["faces_masked"] = masker.frames_masked
            report.anonymised["face_mask_method"] = masker.method
            report.frames_scanned += masker.detections
            if options.detect_faces:
                report.faces.extend(masker.faces)
        _detect(source, video, options, report, masked=masker is not None)

    def residual_metadata(self, path: Path, media_type: MediaType) -> list[str]:
        """Kinds of metadata left in the file (empty when clean): tags, chapters,
        non-AV streams, SEI, and raw ID3/FLAC/RIFF/MP4 structures (``av_scan``).

        Raises ``MediaRefused`` when the file cannot be opened.
        """
        return residue(path, media_type)


def _job(
    stream: Stream,
    output: OutputContainer,
    fmt: str,
    options: Options,
    masker: FaceMaskStage | None,
    upload: tuple[Path, MediaType],
) -> Job:
    """Copy the stream, unless it must change or its codec is not safe to copy."""
    copyable = codec_name(stream) in COPYABLE[fmt]
    if isinstance(stream, AudioStream) and (options.alter_voice or not copyable):
        pitch = PITCH_FACTOR if options.alter_voice else None
        return AudioEncodeJob(stream, output, fmt, pitch)
    if isinstance(stream, VideoStream) and (masker is not None or not copyable):
        rotation = display_rotation(*upload, stream.index)
        return VideoEncodeJob(stream, output, fmt, masker, rotation)
    return CopyJob(stream, output)


def _blank_forced_tags(destination: Path, fmt: str) -> None:
    """Blank the empty tag structures the muxers write whatever their options."""
    if fmt in _ISO_FORMATS:
        isobmff.blank_boxes(destination, frozenset({b"udta", b"meta"}))
    elif fmt == "flac":
        av_bytes.blank_flac_tags(destination)


def _record(jobs: dict[int, Job], report: Report, options: Options) -> None:
    """What the jobs removed or changed, for the report."""
    for job in jobs.values():
        if isinstance(job, CopyJob):
            kind = _UNIT_KINDS.get(codec_name(job.source))
            if kind is not None:
                report.remove(kind, job.units_removed)
            report.remove("audio.trailing_data", int(job.bytes_dropped > 0))
            report.remove("aac.filler", job.frames_blanked)
        elif _reencoded_only(job, options):
            report.note(REENCODED_NOTE)
    if any(isinstance(job, AudioEncodeJob) and job.pitch for job in jobs.values()):
        report.anonymised["voice_altered"] = True
        report.anonymised["voice_pitch_factor"] = PITCH_FACTOR
        report.note(VOICE_NOTE)


def _reencoded_only(job: Job, options: Options) -> bool:
    """A stream re-encoded for its codec, not to anonymise it."""
    if isinstance(job, AudioEncodeJob):
        return not options.alter_voice
    return isinstance(job, VideoEncodeJob) and job.stage is None


def _detect(source: Path, video: bool, options: Options, report: Report, *, masked: bool) -> None:
    """Speech time ranges, and faces sampled every half second (when masking, the
    masking pass has reported the masked areas already)."""
    if options.detect_speech:
        try:
            from app.media.detectors.speech import speech_in_file
        except ModuleNotFoundError as error:
            raise MediaFault("the speech detector is not installed") from error
        report.speech.extend(speech_in_file(source))
    if video and options.detect_faces and not masked:
        try:
            from app.media.detectors.video_faces import scan_video
        except ModuleNotFoundError as error:
            raise MediaFault("the face detector is not installed") from error
        scan = scan_video(source)
        report.faces.extend(scan.faces)
        report.frames_scanned += scan.frames_scanned


register(AudioVisualSanitizer())
