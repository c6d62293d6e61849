"""Generated images: deterministic PNGs sized as the image models document, written in pure Python.

A picture is a grid of flat colour tiles chosen from a seed, so equal requests give equal bytes, every
row of a tile band is the same (cheap to build and to deflate even at 4K), and any PNG reader decodes it.

Sizes (ai.google.dev/gemini-api/docs/image-generation, "Aspect ratios and image size" tables, read
2026-12; output token counts from the same tables and the Vertex model pages):

* the Gemini 2.5 Flash Image table: one size per aspect ratio, 1290 output tokens each;
* the Gemini 3 image table at 1K; 2K and 4K double and quadruple both sides, 512 halves them.

Which aspect ratios and sizes a model takes, and what an image costs it in output tokens, come from the
catalog (`emulator.imageOutput` in fixtures/models.json); this module only knows the pixel tables.
"""
from __future__ import annotations

import base64
import hashlib
import random
import struct
import zlib
from typing import Any

from ..errors import invalid_argument

# aspect ratio -> (width, height)
GEMINI_25_TABLE: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}
GEMINI_3_TABLE_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200), "4:3": (1200, 896),
    "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376), "16:9": (1376, 768), "21:9": (1584, 672),
    # the extreme ratios of Gemini 3.1 Flash Image
    "1:4": (512, 2048), "4:1": (2048, 512), "1:8": (384, 3072), "8:1": (3072, 384),
}
SIZE_SCALE = {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}
TABLES = {"gemini-2.5": GEMINI_25_TABLE, "gemini-3": GEMINI_3_TABLE_1K}
GRID = 8   # tiles per side


def image_facts(model: dict[str, Any]) -> dict[str, Any]:
    """The model's `emulator.imageOutput` facts ({} when it draws no images)."""
    return (model.get("emulator") or {}).get("imageOutput") or {}


def resolve_size(model: dict[str, Any], image_config: dict[str, Any] | None) -> tuple[int, int, int]:
    """(width, height, output tokens) for `generationConfig.imageConfig`; 400 naming the field otherwise."""
    facts = image_facts(model)
    config = image_config or {}
    if not isinstance(config, dict):
        raise invalid_argument("imageConfig must be an object.", "generationConfig.imageConfig")
    table = TABLES[facts.get("table", "gemini-3")]
    ratios = facts.get("aspectRatios") or list(table)
    ratio = config.get("aspectRatio") or facts.get("defaultAspectRatio") or "1:1"
    if ratio not in ratios:
        raise invalid_argument(
            f"Unsupported aspect ratio {ratio!r} for {model.get('name')}. Supported values are: "
            f"{', '.join(ratios)}.", "generationConfig.imageConfig.aspectRatio")
    sizes: dict[str, int] = facts.get("tokensBySize") or {"1K": int(facts.get("tokens", 1290))}
    size = config.get("imageSize")
    if size is None:
        size = facts.get("defaultSize") or next(iter(sizes))
    elif size not in sizes:
        # the docs insist on an upper-case K; "1k" is refused like any other unknown size
        raise invalid_argument(
            f"Unsupported image size {size!r} for {model.get('name')}. Supported values are: "
            f"{', '.join(sizes)}.", "generationConfig.imageConfig.imageSize")
    width, height = table[ratio]
    scale = SIZE_SCALE.get(size, 1)
    return int(width * scale), int(height * scale), int(sizes[size])


def png(width: int, height: int, seed: bytes) -> bytes:
    """An RGB PNG of `width` x `height`: a GRID x GRID mosaic of colours drawn from `seed`."""
    rng = random.Random(int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big"))
    colours = [bytes(rng.randrange(256) for _ in range(3)) for _ in range(GRID * GRID)]
    edges = [width * i // GRID for i in range(GRID + 1)]
    compressor = zlib.compressobj(6)
    chunks = []
    for band in range(GRID):
        row = b"\x00" + b"".join(colours[band * GRID + col] * (edges[col + 1] - edges[col]) for col in range(GRID))
        rows = height * (band + 1) // GRID - height * band // GRID
        chunks.append(compressor.compress(row * rows))
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)   # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(chunks)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def image_part(width: int, height: int, seed: bytes) -> dict[str, Any]:
    """An `inlineData` part holding a PNG, as image models answer."""
    return {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png(width, height, seed)).decode()}}
