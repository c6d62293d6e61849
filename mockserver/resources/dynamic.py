"""`dynamic/{id}:generateContent` and `:streamGenerateContent`.

The v1beta discovery document lists `generativelanguage.dynamic.generateContent` and
`.streamGenerateContent`: GenerateContentRequest in, GenerateContentResponse out, the model named
`dynamic/{id}` (the service's HTTP rule binds `{model=dynamic/*}` as a third form beside `models/*` and
`tunedModels/*`). No page documents what a dynamic name selects beyond that; the emulator resolves
`dynamic/{id}` through the model catalog like `models/{id}` (an unknown id is the catalog's 404) and answers
through the one generation path, so rules, usage, rate limits and logs treat it as that model.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..routing import GENERATE, route
from .models import generate_content, stream_generate_content

if TYPE_CHECKING:
    from ..store import Store

VERSIONS = ("v1beta", "v1alpha")


def register(store: Store) -> None:
    """No state: the model catalog and the generation path hold it."""


ROUTES = [
    route("POST", "dynamic/{model}:generateContent", generate_content, versions=VERSIONS, runs=GENERATE),
    route("POST", "dynamic/{model}:streamGenerateContent", stream_generate_content, versions=VERSIONS, runs=GENERATE),
]
