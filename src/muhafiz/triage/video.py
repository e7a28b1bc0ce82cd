"""Videos: vPDQ (one PDQ frame hash per second, formats.md) and what the container says.

Decoding every frame of a 1080p H.264 video costs more than the whole rest of a scan, so only
what the one-per-second sampling needs is decoded:

- a demux-only pass (no decoding) lists the keyframes; packets between the last sampled frame
  and the keyframe that starts the next sample's group of pictures are never decoded, so a phone
  video with a keyframe every second or two decodes a few frames a second, not thirty;
- frames no other frame refers to (`skip_frame = NONREF`) are not decoded either: the sample is
  the first decoded frame at or after each second, so it may lie a frame or two later than the
  exact second (its own frame number and time are recorded);
- each sampled frame is hashed as `pdqhash` hashes the whole frame converted to RGB: FFmpeg
  converts it reduced by 2 (or more), PDQ's own Jarosz blur-and-sample is applied with weights
  for that reduction, and a frame whose hash is not certain from the reduction is hashed again
  from more pixels (`frame_pdq`; decision 0103).

A damaged or truncated video keeps the frames read before the damage and gets a `corrupt-video`
error saying how far decoding got.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from muhafiz.triage.imaging import PdqResult, pdq_of_reduced_rgb, pdq_of_rgb, reduction_for
from muhafiz.triage.records import FileRecord, IssueCode, VideoFrame, VideoInfo
from muhafiz.triage.settings import ScanSettings

if TYPE_CHECKING:  # PyAV is imported when the first video is met (a scan without one is faster)
    import av.container

# ISO 6709 as phones write it in MP4/MOV: "+31.5204+074.3587+215.000/" (latitude, longitude).
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
_LOCATION_KEYS = ("com.apple.quicktime.location.ISO6709", "location", "location-eng")
_CREATION_KEYS = ("com.apple.quicktime.creationdate", "creation_time", "date")
_MAKE_KEYS = ("com.apple.quicktime.make", "make", "com.android.manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model")


def analyze_video(stream: BinaryIO, record: FileRecord, settings: ScanSettings) -> None:
    """Fill `record.video` (container facts and vPDQ frames), dimensions and place."""
    import av

    try:
        container = av.open(stream, mode="r", metadata_errors="replace")
    except Exception as exc:  # FFmpeg raises many types on hostile input
        record.add_issue(IssueCode.CORRUPT_VIDEO, f"not a readable video: {_describe(exc)}")
        return
    with container:
        if not container.streams.video:
            return  # audio only (an .m4a is an MP4 too)
        vs = container.streams.video[0]
        if vs.codec_context is None:  # a damaged header can name a codec FFmpeg does not have
            record.add_issue(
                IssueCode.CORRUPT_VIDEO,
                "no decoder for the video stream (damaged header or unknown codec)",
            )
            return
        info = _container_info(container, vs, record)
        record.video = info
        try:
            for frame in _sample(container, vs, info, settings):
                info.frames.append(frame)
        except Exception as exc:
            where = f"{info.frames[-1].seconds:.3f} s" if info.frames else "the start"
            record.add_issue(
                IssueCode.CORRUPT_VIDEO,
                f"video could not be decoded to the end ({len(info.frames)} frames hashed, up "
                f"to {where}): {_describe(exc)}",
            )
            return
        _check_complete(info, record, settings)


def _check_complete(info: VideoInfo, record: FileRecord, settings: ScanSettings) -> None:
    """A truncated file often just ends: compare how far decoding got with the declared length."""
    if info.duration is None or info.duration <= 0:
        return
    reached = info.frames[-1].seconds if info.frames else 0.0
    slack = 2 * settings.video_seconds_per_hash + 1.0
    if not info.frames or info.duration - reached > slack:
        record.add_issue(
            IssueCode.CORRUPT_VIDEO,
            f"video ends early: {len(info.frames)} frames hashed up to {reached:.3f} s of the "
            f"{info.duration:.3f} s the container declares (truncated?)",
        )


def _container_info(
    container: av.container.InputContainer, vs: Any, record: FileRecord
) -> VideoInfo:
    metadata = {**dict(vs.metadata or {}), **dict(container.metadata or {})}
    ctx = vs.codec_context
    record.width, record.height = ctx.width or None, ctx.height or None
    rate = vs.average_rate or vs.guessed_rate
    duration = None
    if container.duration is not None and container.duration > 0:
        duration = container.duration / 1_000_000  # AV_TIME_BASE: FFmpeg's microseconds
    elif vs.duration is not None and vs.time_base is not None:
        duration = float(vs.duration * vs.time_base)
    location = _first(metadata, _LOCATION_KEYS)
    if location:
        match = _ISO6709.match(location)
        if match and record.gps_lat is None:
            lat, lon = float(match[1]), float(match[2])
            if abs(lat) <= 90 and abs(lon) <= 180:
                record.gps_lat, record.gps_lon = round(lat, 7), round(lon, 7)
    record.exif_make = record.exif_make or _first(metadata, _MAKE_KEYS)
    record.exif_model = record.exif_model or _first(metadata, _MODEL_KEYS)
    return VideoInfo(
        container=container.format.name,
        codec=ctx.name,
        duration=round(duration, 3) if duration is not None else None,
        frame_rate=round(float(rate), 3) if rate else None,
        created=_first(metadata, _CREATION_KEYS),
        location=location,
    )


def _sample(
    container: av.container.InputContainer, vs: Any, info: VideoInfo, settings: ScanSettings
) -> Iterator[VideoFrame]:
    time_base: Fraction = vs.time_base or Fraction(1, 90000)
    fps = info.frame_rate or 30.0
    interval = max(1, round(settings.video_seconds_per_hash * fps))
    keyframes = _keyframes(container, vs)
    start = vs.start_time or 0
    ctx = vs.codec_context
    ctx.skip_frame = "NONREF"
    if settings.video_threads > 1:
        ctx.thread_type = "AUTO"
        ctx.thread_count = settings.video_threads
    else:
        ctx.thread_count = 1
    next_target = 0  # frame number of the next sample
    skip_to: int | None = None  # pts of the keyframe to jump to, packets before it not decoded

    def target_pts(number: int) -> int:
        return start + math.floor(number / fps / time_base)

    def plan_skip() -> int | None:
        if keyframes is None:
            return None
        wanted = target_pts(next_target)
        best = None
        for pts in keyframes:  # sorted; few hundred at most per hour of video
            if pts > wanted:
                break
            best = pts
        return best

    skip_to = plan_skip()
    last_pts: int | None = None
    for packet in container.demux(vs):
        if packet.size == 0 and packet.pts is None:
            frames = vs.decode(packet)  # flush at the end
        else:
            if skip_to is not None and last_pts is not None and skip_to > last_pts:
                if not (packet.is_keyframe and packet.pts is not None and packet.pts >= skip_to):
                    continue  # before the keyframe the next sample needs: never decoded
                skip_to = None
            frames = vs.decode(packet)
        for frame in frames:
            if frame.pts is None:
                continue
            last_pts = max(last_pts or frame.pts, frame.pts)
            number = round(float((frame.pts - start) * time_base) * fps)
            if number < next_target:
                continue
            yield _hash_frame(frame, number, float((frame.pts - start) * time_base), settings)
            next_target = (number // interval + 1) * interval
            skip_to = plan_skip()


def _keyframes(container: av.container.InputContainer, vs: Any) -> list[int] | None:
    """Keyframe time stamps from a demux-only pass, or None when they cannot be trusted."""
    found: list[int] = []
    try:
        for packet in container.demux(vs):
            if packet.is_keyframe:
                if packet.pts is None:
                    return None
                found.append(packet.pts)
        container.seek(0, backward=True, any_frame=False, stream=vs)
    except Exception:  # a damaged file: decode everything and let decoding say where it fails
        try:
            container.seek(0, backward=True, any_frame=False, stream=vs)
        except Exception:
            return None
        return None
    return sorted(found)


def _hash_frame(frame: Any, number: int, seconds: float, settings: ScanSettings) -> VideoFrame:
    result = frame_pdq(frame)
    return VideoFrame(number, round(seconds, 3), result.quality, result.hex)


def frame_pdq(frame: Any) -> PdqResult:
    """PDQ of a decoded frame as `pdqhash` computes it on the frame fully converted to RGB.

    FFmpeg converts the frame to RGB reduced by 2 (or 4, 8: each side kept >= 320 px, as for
    pictures), and PDQ's own blur-and-sample is applied to those pixels with the reduction's
    weights (`imaging.pdq_of_reduced_rgb`); a hash too close to the median to be sure of is
    computed again from the next larger reduction, down to the full frame.
    """
    width, height = frame.width, frame.height
    # A phone held upright: hash the frame as a player shows it (quarter turns only).
    turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
    full = (height, width) if turns % 2 else (width, height)
    scale = reduction_for((width, height))
    while scale > 1:
        if width % scale == 0 and height % scale == 0:
            rgb = frame.to_ndarray(
                format="rgb24", width=width // scale, height=height // scale, interpolation="AREA"
            )
            result, stable = pdq_of_reduced_rgb(np.rot90(rgb, turns), full, scale)
            if stable:
                return result
        scale //= 2
    return pdq_of_rgb(np.rot90(frame.to_ndarray(format="rgb24"), turns))


def _first(metadata: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if value and str(value).strip():
            return str(value).strip()[:200]
    return None


def _describe(exc: BaseException) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
