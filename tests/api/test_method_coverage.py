"""Every method of the v1beta method list (a copy of ../shared/reference/v1beta.methods.tsv in tests/data/)
reaches a handler: none falls to the router's 404."""
from __future__ import annotations

import re

import pytest

from gemini_mockserver.app import RESOURCES
from gemini_mockserver.errors import ApiError
from gemini_mockserver.routing import Router

from support.paths import DATA

METHODS_TSV = DATA / "v1beta.methods.tsv"


# Listed by the newer v1beta revision, but the SDKs create ephemeral tokens on v1alpha only and the emulator
# answers them there (live/tokens.py; tests/api/test_live_tokens.py holds v1beta to the 404): walked on v1alpha.
V1ALPHA_ONLY = {"generativelanguage.auth_tokens.create"}


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in METHODS_TSV.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        verb, flat_path, method_id = line.split("\t")[:3]
        rows.append((verb, flat_path, method_id))
    return rows


ROWS = _rows()
ROUTER = Router([item for module in RESOURCES for item in module.ROUTES])


def test_the_list_is_the_whole_reference():
    assert len(ROWS) == 85


@pytest.mark.parametrize("verb,flat_path,method_id", ROWS,
                         ids=lambda value: value if isinstance(value, str) and value.startswith("gen") else "")
def test_method_is_routed(verb: str, flat_path: str, method_id: str):
    path = "/" + re.sub(r"\{[^}]+\}", "x1", flat_path)
    if method_id in V1ALPHA_ONLY:
        path = path.replace("/v1beta/", "/v1alpha/", 1)
    try:
        ROUTER.match(verb, path)
    except ApiError as error:   # the router's own 404: no route has this verb and path
        pytest.fail(f"{method_id} ({verb} {path}) is not served: {error.message}")
