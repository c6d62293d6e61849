"""File Search without HTTP: chunking, the metadata filter language, the grounded answer, and the backend's
state across a restart of a server with a state dir (and in the dashboard's state)."""
from __future__ import annotations

import httpx
import pytest

from gemini_mockserver import dashboard
from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation import file_search

from support.servers import api_client, serve

TEXT = "Alpha beta gamma. Delta epsilon zeta eta. Theta iota kappa lambda mu."


def test_chunks_are_windows_of_white_space_tokens_with_overlap():
    words = [f"w{i}" for i in range(10)]
    assert file_search.chunk_text(" ".join(words), 4, 1) == ["w0 w1 w2 w3", "w3 w4 w5 w6", "w6 w7 w8 w9"]
    assert file_search.chunk_text(" ".join(words), 4, 0) == ["w0 w1 w2 w3", "w4 w5 w6 w7", "w8 w9"]
    assert file_search.chunk_text("  \n ", 4, 0) == []
    assert file_search.chunk_text("one", 4, 3) == ["one"]


def test_chunking_config_defaults_and_errors():
    assert file_search.check_chunking(None) == (file_search.DEFAULT_CHUNK_TOKENS, file_search.DEFAULT_OVERLAP_TOKENS)
    assert file_search.check_chunking({"white_space_config": {"max_tokens_per_chunk": 3}}) == (3, 2)
    assert file_search.check_chunking({"whiteSpaceConfig": {"maxTokensPerChunk": "50",
                                                            "maxOverlapTokens": 0}}) == (50, 0)
    for bad in ({"whiteSpaceConfig": {"maxTokensPerChunk": -1}}, {"whiteSpaceConfig": {"maxTokensPerChunk": 1.5}},
                {"whiteSpaceConfig": {"maxTokensPerChunk": 4, "maxOverlapTokens": 4}}, {"other": {}}, []):
        with pytest.raises(ApiError) as caught:
            file_search.check_chunking(bad)
        assert caught.value.code == 400 and "chunkingConfig" in caught.value.message


@pytest.mark.parametrize("expression, expected", [
    ('author = "Robert Graves"', True),
    ('author != "Robert Graves"', False),
    ("year > 1930 AND year < 1940", True),
    ("year >= 1935 OR pages <= 500", True),
    ("NOT (year = 1934)", False),
    ('tags = "rome"', True),
    ('tags = "greece"', False),
    ('missing = "x"', False),
    ('year = "1934"', False),            # a string is not the number
    ('author = "a \\"quoted\\" name" OR year = 1934', True),
    ('(author = "x" OR year = 1934) AND tags = "novel"', True),
])
def test_metadata_filters(expression, expected):
    meta = file_search.metadata_values([
        {"key": "author", "stringValue": "Robert Graves"}, {"key": "year", "numericValue": 1934},
        {"key": "pages", "numericValue": 468}, {"key": "tags", "stringListValue": {"values": ["novel", "rome"]}}])
    predicate = file_search.parse_filter(expression, "tools[0].fileSearch.metadataFilter")
    assert predicate(meta) is expected


@pytest.mark.parametrize("expression", ["year >", "(year = 1", "year = 1934 year", "= 3", "year ~ 3", "AND"])
def test_a_bad_filter_is_a_400_naming_the_field(expression):
    with pytest.raises(ApiError) as caught:
        file_search.parse_filter(expression, "tools[0].fileSearch.metadataFilter")
    assert caught.value.code == 400
    assert "tools[0].fileSearch.metadataFilter" in str(caught.value.details)


def test_the_answer_quotes_the_best_chunks_and_supports_point_into_it():
    retrieved = [file_search.Retrieved(TEXT, "doc é", "fileSearchStores/s", "fileSearchStores/s/documents/d", 0.5),
                 file_search.Retrieved("Second chunk here", "other", "fileSearchStores/s",
                                       "fileSearchStores/s/documents/e", 0.25)]
    parts = [{"text": "thinking", "thought": True}, {"text": "something generated"}]
    metadata, delta = file_search.ground(parts, retrieved, rewrite=True)
    assert parts[1]["text"] == "Alpha beta gamma. Second chunk here."
    assert delta != 0
    assert [c["retrievedContext"]["title"] for c in metadata["groundingChunks"]] == ["doc é", "other"]
    first, second = metadata["groundingSupports"]
    assert first["segment"] == {"partIndex": 1, "endIndex": 17, "text": "Alpha beta gamma."}
    assert second["segment"]["startIndex"] == 18 and second["groundingChunkIndices"] == [1]
    kept = [{"text": "A scripted answer."}]
    metadata, delta = file_search.ground(kept, retrieved, rewrite=False)
    assert kept[0]["text"] == "A scripted answer." and delta == 0
    assert "groundingSupports" not in metadata and len(metadata["groundingChunks"]) == 2


def _api(server) -> httpx.Client:
    return api_client(server, key="restart-key")


def test_stores_and_documents_survive_a_restart_with_a_state_dir(tmp_path):
    with serve(state_dir=tmp_path) as server, _api(server) as api:
        store = api.post("/v1beta/fileSearchStores", json={"displayName": "kept"}).json()["name"]
        op = api.post(f"/upload/v1beta/{store}:uploadToFileSearchStore", content=TEXT.encode(),
                      headers={"Content-Type": "text/plain"}).json()
        gone = api.post(f"/upload/v1beta/{store}:uploadToFileSearchStore", content=b"to be deleted",
                        headers={"Content-Type": "text/plain"}).json()["response"]["documentName"]
        assert api.delete(f"/v1beta/{gone}", params={"force": "true"}).status_code == 200
        before = api.get(f"/v1beta/{store}").json()
        (row,) = dashboard.state(server.store)["fileSearchStores"]   # the dashboard's view
        assert row["name"] == store and row["activeDocumentsCount"] == 1 and row["sizeBytes"] == len(TEXT)
    with serve(state_dir=tmp_path) as again, _api(again) as api:
        assert api.get(f"/v1beta/{store}").json() == before
        assert api.get(f"/v1beta/{op['name']}").json() == op
        assert api.get(f"/v1beta/{gone}").status_code == 403
        body = {"contents": [{"parts": [{"text": "delta epsilon"}]}],
                "tools": [{"fileSearch": {"fileSearchStoreNames": [store]}}]}
        answer = api.post("/v1beta/models/gemini-3-flash-preview:generateContent", json=body).json()
        chunk = answer["candidates"][0]["groundingMetadata"]["groundingChunks"][0]["retrievedContext"]
        assert chunk["text"] == TEXT and chunk["fileSearchStore"] == store
        assert not again.store.internal_errors
