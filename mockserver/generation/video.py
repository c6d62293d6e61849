"""Generated videos: small, valid, playable MP4 files (H.264 Baseline), written in pure Python.

No encoder is needed for a picture that never moves: the first frame is an IDR picture of I_PCM
macroblocks (raw 4:2:0 samples, a mosaic of flat colour tiles drawn from a seed) and every later frame
is a P picture that skips all its macroblocks (a repeat of the first). The stream goes into an ISO BMFF
file (ftyp, moov with one `avc1` video track, mdat) at 24 frames a second, so any player decodes it and
the `mvhd` box gives the length the Files API and token counting read.

What Veo produces (ai.google.dev/gemini-api/docs/video, read 2026-12): 720p, 1080p or 4k, 16:9 or 9:16,
24 fps MP4. The emulator's file has those pixel dimensions and that length, without the audio track.
"""
from __future__ import annotations

import hashlib
import random
import struct

FPS = 24
GRID = 8
DIMENSIONS = {("720p", "16:9"): (1280, 720), ("720p", "9:16"): (720, 1280),
              ("1080p", "16:9"): (1920, 1080), ("1080p", "9:16"): (1080, 1920),
              ("4k", "16:9"): (3840, 2160), ("4k", "9:16"): (2160, 3840)}
PROFILE_BASELINE = 66
_I_PCM = 25


class _Bits:
    """An RBSP bit writer with Exp-Golomb codes."""

    def __init__(self) -> None:
        self.bits: list[str] = []

    def u(self, value: int, width: int) -> None:
        self.bits.append(format(value, f"0{width}b") if width else "")

    def ue(self, value: int) -> None:
        code = format(value + 1, "b")
        self.bits.append("0" * (len(code) - 1) + code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        self.bits.append("0" * (-len("".join(self.bits)) % 8))

    def trailing(self) -> bytes:
        self.bits.append("1")
        self.align_zero()
        return self.bytes()

    def bytes(self) -> bytes:
        text = "".join(self.bits)
        return int(text, 2).to_bytes(len(text) // 8, "big") if text else b""


def _escape(rbsp: bytes) -> bytes:
    """Emulation prevention: a 0x03 after any two zero bytes followed by a byte <= 3."""
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _nal(ref_idc: int, kind: int, payload: bytes) -> bytes:
    return bytes([(ref_idc << 5) | kind]) + _escape(payload)


def _sps(mbs_wide: int, mbs_high: int, crop_bottom: int, level: int) -> bytes:
    bits = _Bits()
    bits.u(PROFILE_BASELINE, 8)
    bits.u(0b11000000, 8)     # constraint_set0 and constraint_set1: plain Baseline
    bits.u(level, 8)
    bits.ue(0)                # seq_parameter_set_id
    bits.ue(4)                # log2_max_frame_num_minus4: frame_num has 8 bits
    bits.ue(2)                # pic_order_cnt_type 2: output order is decoding order
    bits.ue(1)                # max_num_ref_frames
    bits.u(0, 1)              # gaps_in_frame_num_value_allowed_flag
    bits.ue(mbs_wide - 1)
    bits.ue(mbs_high - 1)
    bits.u(1, 1)              # frame_mbs_only_flag
    bits.u(1, 1)              # direct_8x8_inference_flag
    bits.u(1 if crop_bottom else 0, 1)
    if crop_bottom:
        for value in (0, 0, 0, crop_bottom // 2):   # left, right, top, bottom in 2-row units (4:2:0)
            bits.ue(value)
    bits.u(0, 1)              # vui_parameters_present_flag
    return _nal(3, 7, bits.trailing())


def _pps() -> bytes:
    bits = _Bits()
    bits.ue(0)
    bits.ue(0)
    bits.u(0, 1)              # CAVLC
    bits.u(0, 1)
    bits.ue(0)                # one slice group
    bits.ue(0)
    bits.ue(0)
    bits.u(0, 1)
    bits.u(0, 2)
    bits.se(0)
    bits.se(0)
    bits.se(0)
    bits.u(1, 1)              # deblocking_filter_control_present_flag
    bits.u(0, 1)
    bits.u(0, 1)
    return _nal(3, 8, bits.trailing())


def _idr(mbs_wide: int, mbs_high: int, seed: bytes) -> bytes:
    """An IDR slice of I_PCM macroblocks, coloured by tile."""
    rng = random.Random(int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big"))
    # Y, Cb, Cr kept within 16..235 so the raw samples never look like a start code.
    tiles = [bytes([rng.randint(16, 235)]) * 256 + bytes([rng.randint(16, 240)]) * 64
             + bytes([rng.randint(16, 240)]) * 64 for _ in range(GRID * GRID)]
    header = _Bits()
    header.ue(0)              # first_mb_in_slice
    header.ue(7)              # slice_type: I, every slice of the picture
    header.ue(0)              # pic_parameter_set_id
    header.u(0, 8)            # frame_num
    header.ue(0)              # idr_pic_id
    header.u(0, 1)            # no_output_of_prior_pics_flag
    header.u(0, 1)            # long_term_reference_flag
    header.se(0)              # slice_qp_delta
    header.ue(1)              # disable_deblocking_filter_idc: off
    header.ue(_I_PCM)
    header.align_zero()
    body = [header.bytes()]
    mb_header = b"\x0d\x00"   # ue(25) = 000011010, then the pcm alignment zero bits
    for y in range(mbs_high):
        row = y * GRID // mbs_high
        for x in range(mbs_wide):
            if x or y:
                body.append(mb_header)
            body.append(tiles[row * GRID + x * GRID // mbs_wide])
    body.append(b"\x80")      # rbsp_slice_trailing_bits
    return _nal(3, 5, b"".join(body))


def _skipped(frame_num: int, mbs: int) -> bytes:
    """A P slice that repeats the previous picture: every macroblock skipped."""
    bits = _Bits()
    bits.ue(0)
    bits.ue(5)                # slice_type: P
    bits.ue(0)
    bits.u(frame_num % 256, 8)
    bits.u(0, 1)              # num_ref_idx_active_override_flag
    bits.u(0, 1)              # ref_pic_list_modification_flag_l0
    bits.u(0, 1)              # adaptive_ref_pic_marking_mode_flag
    bits.se(0)
    bits.ue(1)
    bits.ue(mbs)              # mb_skip_run: the whole picture
    return _nal(2, 1, bits.trailing())


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mp4(seconds: int, width: int, height: int, seed: bytes) -> bytes:
    """A `seconds`-long MP4 of `width` x `height` (multiples of 8) at 24 fps."""
    mbs_wide, mbs_high = -(-width // 16), -(-height // 16)
    level = 51 if width * height > 1920 * 1088 else 40
    sps, pps = _sps(mbs_wide, mbs_high, mbs_high * 16 - height, level), _pps()
    frames = seconds * FPS
    samples = [_idr(mbs_wide, mbs_high, seed)] + [_skipped(n, mbs_wide * mbs_high) for n in range(1, frames)]
    samples = [struct.pack(">I", len(s)) + s for s in samples]
    avcc = _box(b"avcC", bytes([1, PROFILE_BASELINE, 0b11000000, level, 0xFF, 0xE1]),
                struct.pack(">H", len(sps)), sps, b"\x01", struct.pack(">H", len(pps)), pps)
    avc1 = _box(b"avc1", b"\x00" * 6, struct.pack(">H", 1), b"\x00" * 16, struct.pack(">HH", width, height),
                struct.pack(">IIIH", 0x480000, 0x480000, 0, 1), b"\x00" * 32, struct.pack(">Hh", 0x18, -1), avcc)

    def movie(chunk_offset: int) -> bytes:
        stbl = _box(b"stbl",
                    _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
                    _full(b"stts", 0, 0, struct.pack(">III", 1, frames, 1)),
                    _full(b"stss", 0, 0, struct.pack(">II", 1, 1)),
                    _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1)),
                    _full(b"stsz", 0, 0, struct.pack(">II", 0, frames), *(struct.pack(">I", len(s)) for s in samples)),
                    _full(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)))
        dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
        minf = _box(b"minf", _full(b"vmhd", 0, 1, b"\x00" * 8), dinf, stbl)
        mdia = _box(b"mdia",
                    _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, FPS, frames, 0x55C4, 0)),   # 'und'
                    _full(b"hdlr", 0, 0, b"\x00" * 4, b"vide", b"\x00" * 12, b"VideoHandler\x00"), minf)
        tkhd = _full(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, seconds * 1000), b"\x00" * 8,
                     struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", width << 16, height << 16))
        mvhd = _full(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, seconds * 1000),
                     struct.pack(">IH", 0x10000, 0x100), b"\x00" * 10, _MATRIX, b"\x00" * 24, struct.pack(">I", 2))
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    head = len(ftyp) + len(movie(0)) + 8   # the moov box does not change size with the offset
    return ftyp + movie(head) + _box(b"mdat", *samples)
