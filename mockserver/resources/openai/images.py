"""Image generation: `POST openai/images/generations`, answered by the native image paths.

The OpenAI compatibility page (ai.google.dev/gemini-api/docs/openai, "Generate an image", read 2026-12)
calls `client.images.generate(model, prompt, response_format="b64_json", n)` with Gemini image models
(gemini-2.5-flash-image, gemini-3-pro-image-preview; earlier revisions of the page used Imagen,
imagen-3.0-generate-002). The parameters it takes are `prompt`, `model`, `n`, `size` and `response_format`;
"any other parameters ... will be silently ignored". Its `extra_body` table adds, for images, `aspect_ratio`,
`generation_config`, `safety_settings` and `tools` (read here from `extra_body.google`, as chat reads its
extras, or a top-level `google`).

* An Imagen model runs as `models/{m}:predict` with `sampleCount` = n; a Gemini image model as
  generateContent with `responseModalities: ["IMAGE"]` and `candidateCount` = n. So image i is the i-th
  image of the same native call, and one prompt draws the same picture both ways.
* `size` (`WIDTHxHEIGHT`) is the emulator's mapping, the page gives none: the model's aspect ratio and
  image size of exactly those pixels, else the aspect ratio of that shape at the model's default size.
* The answer is the openai SDK's ImagesResponse: `created` and `data[].b64_json` (PNG). No `usage`: the
  page shows none for this layer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from ... import inference
from ...errors import invalid_argument
from ...generation import images
from ...generation.validation import MAX_CANDIDATES
from ...http import Context, json_response
from ...schema import normalize
from ..media_generation import IMAGEN_SIZES_1K, predict_images
from .errors import expect_integer, expect_object, json_body

IMAGEN_SCALE = {"1K": 1, "2K": 2}
GOOGLE_IMAGE_EXTRAS = {"aspect_ratio": "aspect_ratio", "aspectRatio": "aspect_ratio",
                       "generation_config": "generation_config", "generationConfig": "generation_config",
                       "safety_settings": "safety_settings", "safetySettings": "safety_settings",
                       "tools": "tools"}


@dataclass
class ImageRequest:
    """An images.generate request, read (pure)."""
    model: str
    prompt: str
    n: int | None = None
    size: str | None = None
    extras: dict[str, Any] | None = None   # the documented extra_body keys, by their snake_case names


def image_extras(body: dict[str, Any]) -> dict[str, Any]:
    """The image extras of `extra_body.google` or a top-level `google` (other keys are ignored, as the page says)."""
    found: dict[str, Any] = {}
    outer = body.get("extra_body")
    if outer is not None and expect_object(outer, "extra_body").get("google") is not None:
        found.update(expect_object(outer["google"], "extra_body.google"))
    if body.get("google") is not None:
        found.update(expect_object(body["google"], "google"))
    return {GOOGLE_IMAGE_EXTRAS[key]: value for key, value in found.items()
            if key in GOOGLE_IMAGE_EXTRAS and value is not None}


def read_image_request(body: Any) -> ImageRequest:
    body = expect_object(body, "body")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_argument("model is required (for example \"gemini-2.5-flash-image\").", "model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_argument("prompt must be a non-empty string.", "prompt")
    if body.get("stream") is True:
        raise invalid_argument("stream is not supported for image generation.", "stream")
    response_format = body.get("response_format")
    if response_format not in (None, "b64_json"):
        raise invalid_argument(f"response_format {response_format!r} is not supported: images are returned as "
                               f"b64_json.", "response_format")
    n = None if body.get("n") is None else expect_integer(body["n"], "n", 1)
    size = body.get("size")
    if size is not None and not isinstance(size, str):
        raise invalid_argument(f"size must be a string such as \"1024x1024\", got {size!r}.", "size")
    return ImageRequest(model=model.strip(), prompt=prompt, n=n, size=None if size in (None, "auto") else size,
                        extras=image_extras(body))


# -- the model's shapes -----------------------------------------------------------------------------


def _imagen_facts(model: dict[str, Any]) -> dict[str, Any]:
    return (model.get("emulator") or {}).get("imagen") or {}


def shapes(model: dict[str, Any]) -> tuple[list[str], dict[tuple[int, int], tuple[str, str]]]:
    """(the model's aspect ratios, {(width, height): (aspect ratio, image size)} of every image it draws)."""
    imagen = _imagen_facts(model)
    pixels: dict[tuple[int, int], tuple[str, str]] = {}
    if imagen:
        ratios = list(imagen.get("aspectRatios") or IMAGEN_SIZES_1K)
        for ratio in ratios:
            for size in imagen.get("imageSizes") or ["1K"]:
                width, height = IMAGEN_SIZES_1K[ratio]
                pixels.setdefault((width * IMAGEN_SCALE[size], height * IMAGEN_SCALE[size]), (ratio, size))
        return ratios, pixels
    facts = images.image_facts(model)
    table = images.TABLES[facts.get("table", "gemini-3")]
    ratios = list(facts.get("aspectRatios") or table)
    sizes = list(facts.get("tokensBySize") or {"1K": 0})
    for ratio in ratios:
        for size in sizes:
            width, height = table[ratio]
            scale = images.SIZE_SCALE.get(size, 1)
            pixels.setdefault((int(width * scale), int(height * scale)), (ratio, size))
    return ratios, pixels


def _reduced(width: int, height: int) -> tuple[int, int]:
    common = math.gcd(width, height)
    return width // common, height // common


def pick_shape(model: dict[str, Any], size: str | None, aspect_ratio: Any) -> tuple[str | None, str | None]:
    """(aspect ratio, image size) for `size` and `extra_body` `aspect_ratio`; None leaves the model's default."""
    ratios, pixels = shapes(model)
    if aspect_ratio is not None and aspect_ratio not in ratios:
        raise invalid_argument(f"aspect_ratio {aspect_ratio!r} is not supported by {model['name']}. Supported "
                               f"values are: {', '.join(ratios)}.", "aspect_ratio")
    if size is None:
        return aspect_ratio, None
    width, _, height = size.partition("x")
    ratio: str | None = None
    image_size: str | None = None
    if width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
        exact = pixels.get((int(width), int(height)))
        if exact is not None:
            ratio, image_size = exact
        else:
            shape = _reduced(int(width), int(height))
            ratio = next((r for r in ratios if _reduced(*map(int, r.split(":"))) == shape), None)
    if ratio is None:
        listed = ", ".join(f"{w}x{h}" for w, h in pixels)
        raise invalid_argument(f"size {size!r} is not one {model['name']} draws. Supported sizes are: {listed} "
                               f"(or another size of one of its aspect ratios: {', '.join(ratios)}).", "size")
    if aspect_ratio is not None and aspect_ratio != ratio:
        raise invalid_argument(f"size {size} has the aspect ratio {ratio}, but aspect_ratio asks for "
                               f"{aspect_ratio}.", "size")
    return ratio, image_size


# -- native requests (pure) -------------------------------------------------------------------------


def imagen_request(request: ImageRequest, ratio: str | None, image_size: str | None) -> dict[str, Any]:
    """The PredictRequest of an images.generate call on an Imagen model."""
    parameters: dict[str, Any] = {"sampleCount": request.n or 1}   # OpenAI's n defaults to 1, Imagen's to 4
    if ratio is not None:
        parameters["aspectRatio"] = ratio
    if image_size is not None:
        parameters["imageSize"] = image_size
    return {"instances": [{"prompt": request.prompt}], "parameters": parameters}


def gemini_request(version: str, request: ImageRequest, ratio: str | None,
                   image_size: str | None) -> dict[str, Any]:
    """The (normalised) GenerateContentRequest of an images.generate call on a Gemini image model."""
    extras = request.extras or {}
    native: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": request.prompt}]}]}
    if extras.get("generation_config") is not None:
        native["generationConfig"] = expect_object(extras["generation_config"], "generation_config")
    if extras.get("safety_settings") is not None:
        native["safetySettings"] = extras["safety_settings"]
    if extras.get("tools") is not None:
        native["tools"] = extras["tools"]
    native = normalize(version, "GenerateContentRequest", native)
    config = native.setdefault("generationConfig", {})
    config.setdefault("responseModalities", ["IMAGE"])
    image_config = dict(config.get("imageConfig") or {})
    if ratio is not None:
        image_config["aspectRatio"] = ratio
    if image_size is not None:
        image_config["imageSize"] = image_size
    if image_config:
        config["imageConfig"] = image_config
    if request.n is not None:
        config["candidateCount"] = request.n
    return native


def images_response(pictures: list[str], created: int) -> dict[str, Any]:
    return {"created": created, "data": [{"b64_json": data} for data in pictures]}


def _gemini_pictures(response: dict[str, Any]) -> list[str]:
    return [part["inlineData"]["data"] for candidate in response.get("candidates") or ()
            for part in (candidate.get("content") or {}).get("parts") or ()
            if str((part.get("inlineData") or {}).get("mimeType", "")).startswith("image/")]


# -- handler ----------------------------------------------------------------------------------------


async def images_generations(ctx: Context) -> Response:
    request = read_image_request(await json_body(ctx))
    model = ctx.store.models.get(request.model, version=ctx.version)
    imagen = _imagen_facts(model)
    if not imagen and not images.image_facts(model):
        raise invalid_argument(f"{model['name']} does not generate images: use an image model such as "
                               f"gemini-2.5-flash-image.", "model")
    most = int(imagen.get("maxSamples", 4)) if imagen else MAX_CANDIDATES
    if request.n is not None and request.n > most:
        raise invalid_argument(f"n must be between 1 and {most} for {model['name']}, got {request.n}.", "n")
    ratio, image_size = pick_shape(model, request.size, (request.extras or {}).get("aspect_ratio"))
    if imagen:
        native = normalize(ctx.version, "PredictRequest", imagen_request(request, ratio, image_size))
        predicted = await ctx.work(predict_images, ctx.store.seed, model, native)
        pictures = [p["bytesBase64Encoded"] for p in predicted["predictions"]]
    else:
        native = gemini_request(ctx.version, request, ratio, image_size)
        response = await ctx.work(inference.generate, ctx.store, ctx.identity, model, native)
        pictures = _gemini_pictures(response)
    return json_response(images_response(pictures, int(ctx.store.now())))
