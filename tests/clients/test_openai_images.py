"""Image generation through the OpenAI-compatible layer (`POST /v1beta/openai/images/generations`), driven by the
openai SDK as the docs' OpenAI compatibility page does, and compared with the native calls (google-genai for
Gemini image models, raw `:predict` for Imagen)."""
from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest
from google.genai import types

from gemini_mockserver.resources.openai import images as layer

FLASH_IMAGE = "gemini-2.5-flash-image"
PRO_IMAGE = "gemini-3-pro-image-preview"
IMAGEN = "imagen-4.0-generate-001"
PROMPT = "a portrait of a sheepadoodle wearing a cape"


@pytest.fixture
def oai(gemini_mock):
    return openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/",
                         max_retries=0)


@pytest.fixture
def raw(gemini_mock):
    with httpx.Client(base_url=gemini_mock.base_url + "/v1beta/openai",
                      headers={"Authorization": f"Bearer {gemini_mock.api_key}"}, timeout=30) as session:
        yield session


def png_size(b64: str) -> tuple[int, int]:
    data = base64.b64decode(b64)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def openai_error(response: httpx.Response, code: int, status: str, field: str) -> None:
    """The layer's error shape: the native envelope in a one-element list, naming the field."""
    assert response.status_code == code, response.text[:300]
    [item] = response.json()
    error = item["error"]
    assert error["code"] == code and error["status"] == status, error
    assert field in error["message"] or field in str(error.get("details")), error


# -- Gemini image models ----------------------------------------------------------------------------

def test_docs_example_gives_the_native_image(oai, gemini_mock):
    before = int(gemini_mock.store.now())
    response = oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT, response_format="b64_json", n=1)
    assert before <= response.created <= int(gemini_mock.store.now())
    [image] = response.data
    assert png_size(image.b64_json) == (1024, 1024) and image.url is None
    native = gemini_mock.client().models.generate_content(
        model=FLASH_IMAGE, contents=PROMPT, config=types.GenerateContentConfig(response_modalities=["IMAGE"]))
    assert base64.b64decode(image.b64_json) == native.candidates[0].content.parts[0].inline_data.data
    again = oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT, response_format="b64_json", n=1)
    assert again.data[0].b64_json == image.b64_json
    other = oai.images.generate(model=FLASH_IMAGE, prompt="a lighthouse at night", response_format="b64_json")
    assert other.data[0].b64_json != image.b64_json


def test_n_images_are_the_native_candidates(oai, gemini_mock):
    response = oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT, n=3)
    pictures = [base64.b64decode(d.b64_json) for d in response.data]
    assert len(pictures) == 3 and len(set(pictures)) == 3
    native = gemini_mock.client().models.generate_content(
        model=FLASH_IMAGE, contents=PROMPT,
        config=types.GenerateContentConfig(response_modalities=["IMAGE"], candidate_count=3))
    assert pictures == [c.content.parts[0].inline_data.data for c in native.candidates]


@pytest.mark.parametrize("model, size, expected", [
    (FLASH_IMAGE, "768x1344", (768, 1344)),       # exactly a table size (9:16)
    (FLASH_IMAGE, "1536x1024", (1248, 832)),      # OpenAI's 3:2 size: the model's 3:2 image
    (FLASH_IMAGE, "2048x2048", (1024, 1024)),     # 1:1, but this model draws only 1K
    (PRO_IMAGE, "2048x2048", (2048, 2048)),       # 1:1 at 2K
    (PRO_IMAGE, "auto", (1024, 1024)),
    (IMAGEN, "1408x768", (1408, 768)),
    (IMAGEN, "2816x1536", (2816, 1536)),          # 16:9 at 2K
])
def test_size_picks_the_models_shape(oai, model, size, expected):
    response = oai.images.generate(model=model, prompt=PROMPT, size=size)
    assert [png_size(d.b64_json) for d in response.data] == [expected]


def test_extra_body_aspect_ratio_and_generation_config(oai):
    wide = oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT,
                               extra_body={"extra_body": {"google": {"aspect_ratio": "16:9"}}})
    assert png_size(wide.data[0].b64_json) == (1344, 768)
    config = {"responseModalities": ["TEXT", "IMAGE"], "candidateCount": 2}
    two = oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT,
                              extra_body={"extra_body": {"google": {"generation_config": config}}})
    assert len(two.data) == 2   # the captions are text, not images
    ignored = oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT, quality="hd", style="vivid", user="u1")
    assert ignored.data[0].b64_json == oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT).data[0].b64_json


def test_tools_only_where_the_model_takes_them(oai):
    search = {"extra_body": {"google": {"tools": [{"google_search": {}}]}}}
    assert len(oai.images.generate(model=PRO_IMAGE, prompt=PROMPT, extra_body=search).data) == 1
    with pytest.raises(openai.BadRequestError):
        oai.images.generate(model=FLASH_IMAGE, prompt=PROMPT, extra_body=search)


# -- Imagen -----------------------------------------------------------------------------------------

def test_imagen_gives_the_native_predictions(oai, http):
    response = oai.images.generate(model=IMAGEN, prompt=PROMPT, response_format="b64_json", n=2)
    native = http.post(f"/v1beta/models/{IMAGEN}:predict",
                       json={"instances": [{"prompt": PROMPT}], "parameters": {"sampleCount": 2}})
    assert [d.b64_json for d in response.data] == [p["bytesBase64Encoded"] for p in native.json()["predictions"]]
    assert len(oai.images.generate(model=IMAGEN, prompt=PROMPT).data) == 1   # OpenAI's n defaults to 1


# -- errors -----------------------------------------------------------------------------------------

def test_errors_raise_the_matching_openai_exceptions(oai):
    with pytest.raises(openai.NotFoundError):
        oai.images.generate(model="imagen-0-nope", prompt=PROMPT)
    with pytest.raises(openai.BadRequestError):
        oai.images.generate(model="gemini-2.5-flash", prompt=PROMPT)
    with pytest.raises(openai.BadRequestError):
        oai.images.generate(model=IMAGEN, prompt=PROMPT, n=5)


@pytest.mark.parametrize("body, field", [
    ({"model": "gemini-2.5-flash"}, "model"),
    ({"model": "gemini-embedding-001"}, "model"),
    ({"model": FLASH_IMAGE, "prompt": ""}, "prompt"),
    ({"model": FLASH_IMAGE, "n": 0}, "n"),
    ({"model": FLASH_IMAGE, "n": 9}, "n"),
    ({"model": FLASH_IMAGE, "n": "two"}, "n"),
    ({"model": IMAGEN, "n": 5}, "n"),
    ({"model": FLASH_IMAGE, "size": "1792x1024"}, "size"),
    ({"model": FLASH_IMAGE, "size": "big"}, "size"),
    ({"model": IMAGEN, "size": "832x1248"}, "size"),        # 2:3: not an Imagen ratio
    ({"model": FLASH_IMAGE, "size": "1024x1024", "google": {"aspect_ratio": "16:9"}}, "size"),
    ({"model": FLASH_IMAGE, "extra_body": {"google": {"aspect_ratio": "7:3"}}}, "aspect_ratio"),
    ({"model": FLASH_IMAGE, "extra_body": "16:9"}, "extra_body"),
    ({"model": FLASH_IMAGE, "google": {"generation_config": "IMAGE"}}, "generation_config"),
    ({"model": FLASH_IMAGE, "response_format": "url"}, "response_format"),
    ({"model": FLASH_IMAGE, "stream": True}, "stream"),
    ({"model": FLASH_IMAGE, "google": {"generation_config": {"temperature": "hot"}}}, "temperature"),
])
def test_bad_requests_are_400s_naming_the_field(raw, body, field):
    openai_error(raw.post("/images/generations", json={"prompt": PROMPT, **body}), 400, "INVALID_ARGUMENT", field)


def test_unknown_model_is_a_404_in_the_layers_shape(raw):
    openai_error(raw.post("/images/generations", json={"model": "imagen-0-nope", "prompt": PROMPT}), 404,
                 "NOT_FOUND", "imagen-0-nope")


# -- the pure mapping -------------------------------------------------------------------------------

def test_shape_mapping(gemini_mock):
    flash = gemini_mock.store.models.get(FLASH_IMAGE)
    assert layer.pick_shape(flash, None, None) == (None, None)
    assert layer.pick_shape(flash, None, "4:5") == ("4:5", None)
    assert layer.pick_shape(flash, "1248x832", None) == ("3:2", "1K")
    assert layer.pick_shape(flash, "300x200", "3:2") == ("3:2", None)
    request = layer.read_image_request({"model": " m ", "prompt": "p", "n": 2, "size": "auto",
                                        "extra_body": {"google": {"aspect_ratio": "1:1", "seed": 3}}})
    assert (request.model, request.n, request.size, request.extras) == ("m", 2, None, {"aspect_ratio": "1:1"})
    assert layer.imagen_request(request, "1:1", None) == {
        "instances": [{"prompt": "p"}], "parameters": {"sampleCount": 2, "aspectRatio": "1:1"}}
