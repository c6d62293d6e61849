"""File Search through google-genai (client.file_search_stores, .documents, operations, generate_content with a
fileSearch tool) and raw HTTP: stores, uploads (resumable, multipart, raw), importFile, documents, operations
that finish on the emulator's clock, counters, retrieval-grounded answers and every error envelope."""
from __future__ import annotations

import io
import json

import pytest
from google.genai import errors, types

from support import assert_envelope, validate_response
from support.documents import pdf

MODEL = "gemini-3-flash-preview"
CLAUDIUS = ("Robert Graves wrote the novel I, Claudius in 1934. The book tells the life of the Roman emperor "
            "Claudius as a memoir. Its sequel, Claudius the God, appeared in 1935.")
BANANAS = ("Bananas are yellow tropical fruit. They are rich in potassium and grow in large hanging clusters. "
           "Most bananas exported today are of the Cavendish variety.")


@pytest.fixture
def client(gemini_mock):
    return gemini_mock.client(api_version="v1beta")


def _store(client, name: str = "Library") -> str:
    return client.file_search_stores.create(config={"display_name": name}).name


def _upload(client, store: str, text: str, name: str, **config):
    return client.file_search_stores.upload_to_file_search_store(
        file=io.BytesIO(text.encode()), file_search_store_name=store,
        config={"display_name": name, "mime_type": "text/plain", **config})


def _ask(client, store_names: list[str], question: str, **file_search):
    tool = types.Tool(file_search=types.FileSearch(file_search_store_names=store_names, **file_search))
    return client.models.generate_content(model=MODEL, contents=question,
                                          config=types.GenerateContentConfig(tools=[tool]))


# -- stores --------------------------------------------------------------------------------------------

def test_store_create_get_list_paged_and_delete(client, http):
    created = client.file_search_stores.create(config={"display_name": "My Docs"})
    assert created.name.startswith("fileSearchStores/my-docs-")
    assert created.display_name == "My Docs" and created.create_time and created.update_time
    assert created.embedding_model == "models/gemini-embedding-001"
    assert created.active_documents_count is None and created.size_bytes is None   # zero: left out
    assert client.file_search_stores.get(name=created.name).name == created.name
    others = [_store(client, f"store {i}") for i in range(2)]
    pager = client.file_search_stores.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert [s.name for s in pager] == [created.name, *others]
    page = http.get("/v1beta/fileSearchStores", params={"pageSize": 2}).json()
    assert len(page["fileSearchStores"]) == 2 and page["nextPageToken"]
    client.file_search_stores.delete(name=created.name)
    with pytest.raises(errors.ClientError) as caught:
        client.file_search_stores.get(name=created.name)
    assert caught.value.code == 403


def test_store_embedding_model_is_checked(client, http):
    store = client.file_search_stores.create(config={"embedding_model": "models/gemini-embedding-2"})
    assert store.embedding_model == "models/gemini-embedding-2"
    response = http.post("/v1beta/fileSearchStores", json={"embeddingModel": "models/gemini-2.5-flash"})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="embeddingModel")
    response = http.post("/v1beta/fileSearchStores", json={"colour": "red"})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="colour")
    response = http.post("/v1beta/fileSearchStores", json={"displayName": "x" * 513})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="displayName")


def test_missing_and_foreign_stores_are_the_same_403(client, http, gemini_mock):
    mine = _store(client)
    _upload(client, mine, BANANAS, "bananas")
    doc = client.file_search_stores.documents.list(parent=mine).page[0].name
    foreign = {"x-goog-api-key": gemini_mock.other_key("someone")}
    for path in (mine, f"{mine}/documents", doc):
        assert http.get(f"/v1beta/{path}").status_code == 200
        assert_envelope(http.get(f"/v1beta/{path}", headers=foreign), 403, "PERMISSION_DENIED")
    for path in ("fileSearchStores/nope", f"{mine}/operations/abc", f"{mine}/upload/operations/abc",
                 f"{mine}/documents/abc"):
        assert_envelope(http.get(f"/v1beta/{path}"), 403, "PERMISSION_DENIED")
    assert_envelope(http.delete(f"/v1beta/{mine}", headers=foreign, params={"force": "true"}), 403,
                    "PERMISSION_DENIED")
    assert_envelope(http.delete(f"/v1beta/{doc}", headers=foreign, params={"force": "true"}), 403,
                    "PERMISSION_DENIED")


def test_delete_store_with_documents_needs_force(client, http):
    store = _store(client)
    _upload(client, store, CLAUDIUS, "claudius")
    response = http.delete(f"/v1beta/{store}")
    assert_envelope(response, 400, "FAILED_PRECONDITION")
    assert_envelope(http.delete(f"/v1beta/{store}", params={"force": "maybe"}), 400, "INVALID_ARGUMENT",
                    field="force")
    client.file_search_stores.delete(name=store, config={"force": True})   # the SDK sends force=True
    assert_envelope(http.get(f"/v1beta/{store}"), 403, "PERMISSION_DENIED")


# -- uploads, operations and counters ------------------------------------------------------------------

def test_upload_is_an_operation_that_finishes_on_the_clock(client, gemini_mock):
    gemini_mock.configure({"fileSearch": {"processingSeconds": 30.0}})
    store = _store(client)
    operation = _upload(client, store, CLAUDIUS, "claudius",
                        custom_metadata=[{"key": "author", "string_value": "Robert Graves"},
                                         {"key": "year", "numeric_value": 1934},
                                         {"key": "tags", "string_list_value": {"values": ["novel", "rome"]}}],
                        chunking_config={"white_space_config": {"max_tokens_per_chunk": 10,
                                                                "max_overlap_tokens": 2}})
    assert operation.name.startswith(f"{store}/upload/operations/")
    assert not operation.done and operation.response is None
    pending = client.file_search_stores.get(name=store)
    assert pending.pending_documents_count == 1 and pending.active_documents_count is None
    doc = client.file_search_stores.documents.list(parent=store).page[0]
    assert doc.state == types.DocumentState.STATE_PENDING
    gemini_mock.advance(30)
    operation = client.operations.get(operation)
    assert operation.done and operation.error is None
    assert operation.response.parent == store
    assert operation.response.document_name == doc.name
    active = client.file_search_stores.get(name=store)
    assert active.active_documents_count == 1 and active.pending_documents_count is None
    assert active.size_bytes == len(CLAUDIUS.encode())
    doc = client.file_search_stores.documents.get(name=doc.name)
    assert doc.state == types.DocumentState.STATE_ACTIVE
    assert doc.display_name == "claudius" and doc.mime_type == "text/plain" and doc.size_bytes == len(CLAUDIUS)
    assert {m.key for m in doc.custom_metadata} == {"author", "year", "tags"}
    assert [m.numeric_value for m in doc.custom_metadata if m.key == "year"] == [1934]


def test_upload_checks_its_metadata_before_the_bytes(client, http):
    store = _store(client)
    headers = {"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"}
    url = f"/upload/v1beta/{store}:uploadToFileSearchStore"
    bad = [({"chunkingConfig": {"whiteSpaceConfig": {"maxTokensPerChunk": 5, "maxOverlapTokens": 5}}},
            "maxOverlapTokens"),
           ({"chunkingConfig": {"whiteSpaceConfig": {"maxTokensPerChunk": 0}}}, "maxTokensPerChunk"),
           ({"customMetadata": [{"key": "a"}]}, "customMetadata[0]"),
           ({"customMetadata": [{"key": f"k{i}", "stringValue": "v"} for i in range(21)]}, "customMetadata"),
           ({"title": "x"}, "title")]
    for body, field in bad:
        assert_envelope(http.post(url, headers=headers, json=body), 400, "INVALID_ARGUMENT", field=field)
    too_big = {**headers, "X-Goog-Upload-Header-Content-Length": str(104857601)}
    assert_envelope(http.post(url, headers=too_big, json={}), 400, "INVALID_ARGUMENT")
    assert_envelope(http.post(f"/upload/v1beta/fileSearchStores/nope:uploadToFileSearchStore",
                              headers=headers, json={}), 403, "PERMISSION_DENIED")
    # the metadata URI: a document needs its bytes
    assert_envelope(http.post(f"/v1beta/{store}:uploadToFileSearchStore", json={}), 400, "INVALID_ARGUMENT")


def test_resumable_upload_in_chunks_over_http(client, http):
    store = _store(client)
    data = BANANAS.encode()
    start = http.post(f"/upload/v1beta/{store}:uploadToFileSearchStore", json={"displayName": "fruit"},
                      headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                               "X-Goog-Upload-Header-Content-Length": str(len(data)),
                               "X-Goog-Upload-Header-Content-Type": "text/plain"})
    assert start.status_code == 200
    upload_url = start.headers["X-Goog-Upload-URL"]
    first = http.post(upload_url, content=data[:40],
                      headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"})
    assert first.headers["X-Goog-Upload-Status"] == "active"
    wrong = http.post(upload_url, content=data[40:],
                      headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "7"})
    assert_envelope(wrong, 400, "INVALID_ARGUMENT")
    final = http.post(upload_url, content=data[40:],
                      headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "40"})
    assert final.headers["X-Goog-Upload-Status"] == "final"
    operation = final.json()
    assert operation["done"] is True
    assert operation["response"]["@type"].endswith("v1beta.UploadToFileSearchStoreResponse")
    doc = http.get(f"/v1beta/{operation['response']['documentName']}").json()
    assert doc["displayName"] == "fruit" and doc["sizeBytes"] == str(len(data)) and doc["state"] == "STATE_ACTIVE"
    assert http.get(f"/v1beta/{operation['name']}").json() == operation


def test_multipart_and_raw_uploads(client, http):
    store = _store(client)
    boundary = "b0und"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n"
            + json.dumps({"displayName": "multi", "customMetadata": [{"key": "kind", "stringValue": "fruit"}]})
            + f"\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\n{BANANAS}\r\n--{boundary}--\r\n").encode()
    response = http.post(f"/upload/v1beta/{store}:uploadToFileSearchStore", content=body,
                         params={"uploadType": "multipart"},
                         headers={"Content-Type": f"multipart/related; boundary={boundary}"})
    assert response.status_code == 200, response.text
    name = response.json()["response"]["documentName"]
    doc = http.get(f"/v1beta/{name}").json()
    assert doc["displayName"] == "multi" and doc["customMetadata"] == [{"key": "kind", "stringValue": "fruit"}]
    raw = http.post(f"/upload/v1beta/{store}:uploadToFileSearchStore", content=CLAUDIUS.encode(),
                    headers={"Content-Type": "text/plain"})
    assert raw.status_code == 200 and raw.json()["done"] is True
    assert client.file_search_stores.get(name=store).active_documents_count == 2


def test_a_document_without_text_fails(client, http):
    store = _store(client)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    operation = client.file_search_stores.upload_to_file_search_store(
        file=io.BytesIO(png), file_search_store_name=store, config={"mime_type": "image/png"})
    assert operation.done and operation.error["code"] == 3 and operation.response is None
    counts = client.file_search_stores.get(name=store)
    assert counts.failed_documents_count == 1 and counts.active_documents_count is None
    doc = client.file_search_stores.documents.list(parent=store).page[0]
    assert doc.state == types.DocumentState.STATE_FAILED
    client.file_search_stores.documents.delete(name=doc.name)   # a failed document has no chunks


def test_a_pdf_is_indexed_by_its_text(client):
    """A PDF's text layer is chunked and searched, page after page; the answer cites it."""
    store = _store(client)
    document = pdf("Robert Graves wrote the novel I, Claudius in 1934.",
                   "Bananas are yellow tropical fruit, rich in potassium.")
    operation = client.file_search_stores.upload_to_file_search_store(
        file=io.BytesIO(document), file_search_store_name=store,
        config={"display_name": "notes.pdf", "mime_type": "application/pdf"})
    assert operation.done and operation.error is None
    doc = client.file_search_stores.documents.list(parent=store).page[0]
    assert doc.state == types.DocumentState.STATE_ACTIVE and doc.mime_type == "application/pdf"
    response = _ask(client, [store], "Which fruit is rich in potassium?", top_k=1)
    context = response.candidates[0].grounding_metadata.grounding_chunks[0].retrieved_context
    assert context.title == "notes.pdf"
    assert "potassium" in context.text and "Claudius" in context.text   # both pages, one chunk


@pytest.mark.parametrize("document, reason", [
    (pdf(None, None), "no text layer"),                              # scanned pages: no OCR
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "could not be read"),   # damaged
])
def test_a_pdf_without_readable_text_fails_saying_why(client, document, reason):
    store = _store(client)
    operation = client.file_search_stores.upload_to_file_search_store(
        file=io.BytesIO(document), file_search_store_name=store, config={"mime_type": "application/pdf"})
    assert operation.done and operation.error["code"] == 3 and reason in operation.error["message"]
    doc = client.file_search_stores.documents.list(parent=store).page[0]
    assert doc.state == types.DocumentState.STATE_FAILED


def test_import_file_from_the_files_api(client, http, gemini_mock):
    gemini_mock.configure({"fileSearch": {"processingSeconds": 5.0}})
    store = _store(client)
    file = client.files.upload(file=io.BytesIO(CLAUDIUS.encode()),
                               config={"mime_type": "text/plain", "display_name": "graves.txt"})
    operation = client.file_search_stores.import_file(
        file_search_store_name=store, file_name=file.name,
        config={"custom_metadata": [{"key": "author", "string_value": "Robert Graves"}]})
    assert operation.name.startswith(f"{store}/operations/") and not operation.done
    gemini_mock.advance(5)
    operation = client.operations.get(operation)
    assert operation.done and operation.response.parent == store
    doc = client.file_search_stores.documents.get(name=operation.response.document_name)
    assert doc.display_name == "graves.txt" and doc.state == types.DocumentState.STATE_ACTIVE
    client.files.delete(name=file.name)   # the document keeps its own copy
    assert _ask(client, [store], "Who wrote I, Claudius?").candidates[0].grounding_metadata.grounding_chunks
    response = http.post(f"/v1beta/{store}:importFile", json={"fileName": "files/nope"})
    assert_envelope(response, 403, "PERMISSION_DENIED")
    assert_envelope(http.post(f"/v1beta/{store}:importFile", json={}), 400, "INVALID_ARGUMENT", field="fileName")


# -- documents -----------------------------------------------------------------------------------------

def test_documents_list_get_and_delete_with_force(client, http):
    store = _store(client)
    names = [_upload(client, store, text, name).response.document_name
             for text, name in ((CLAUDIUS, "a"), (BANANAS, "b"), (CLAUDIUS, "c"))]
    pager = client.file_search_stores.documents.list(parent=store, config={"page_size": 2})
    assert len(pager.page) == 2 and [d.name for d in pager] == names
    response = http.delete(f"/v1beta/{names[0]}")
    assert_envelope(response, 400, "FAILED_PRECONDITION")
    client.file_search_stores.documents.delete(name=names[0], config={"force": True})
    assert_envelope(http.get(f"/v1beta/{names[0]}"), 403, "PERMISSION_DENIED")
    store_now = client.file_search_stores.get(name=store)
    assert store_now.active_documents_count == 2
    assert store_now.size_bytes == len(BANANAS) + len(CLAUDIUS)


# -- retrieval in generateContent ---------------------------------------------------------------------

def _check_supports(metadata, text: str) -> None:
    raw = text.encode("utf-8")
    assert metadata.grounding_supports
    for support in metadata.grounding_supports:
        start = support.segment.start_index or 0
        assert raw[start:support.segment.end_index].decode("utf-8") == support.segment.text
        assert all(0 <= i < len(metadata.grounding_chunks) for i in support.grounding_chunk_indices)


def test_file_search_grounds_the_answer_in_the_best_chunks(client):
    store = _store(client)
    _upload(client, store, CLAUDIUS, "claudius.txt")
    _upload(client, store, BANANAS, "bananas.txt")
    response = _ask(client, [store], "Which fruit is rich in potassium?", top_k=1)
    metadata = response.candidates[0].grounding_metadata
    assert len(metadata.grounding_chunks) == 1
    context = metadata.grounding_chunks[0].retrieved_context
    assert context.title == "bananas.txt" and context.file_search_store == store
    assert context.text == BANANAS                  # the whole document fits one default chunk
    assert response.text == "Bananas are yellow tropical fruit."   # the answer draws on the retrieved text
    _check_supports(metadata, response.text)
    assert response.usage_metadata.tool_use_prompt_token_count > 0
    again = _ask(client, [store], "Which fruit is rich in potassium?", top_k=1)
    # deterministic; the SDK's copy of the HTTP response is left out: its Date header moves with the wall clock
    assert again.model_dump(exclude={"sdk_http_response"}) == response.model_dump(exclude={"sdk_http_response"})


def test_chunking_config_and_metadata_filter(client, http):
    store = _store(client)
    _upload(client, store, CLAUDIUS, "claudius", custom_metadata=[{"key": "year", "numeric_value": 1934}],
            chunking_config={"white_space_config": {"max_tokens_per_chunk": 8, "max_overlap_tokens": 0}})
    _upload(client, store, BANANAS, "bananas", custom_metadata=[{"key": "kind", "string_value": "fruit"}])
    response = _ask(client, [store], "Tell me about Claudius", top_k=10, metadata_filter="year >= 1930")
    chunks = response.candidates[0].grounding_metadata.grounding_chunks
    assert chunks and all(c.retrieved_context.title == "claudius" for c in chunks)
    assert all(len(c.retrieved_context.text.split()) <= 8 for c in chunks)
    assert chunks[0].retrieved_context.custom_metadata[0].key == "year"
    fruit = _ask(client, [store], "Tell me about Claudius", metadata_filter='kind = "fruit" AND NOT year < 0')
    assert {c.retrieved_context.title for c in fruit.candidates[0].grounding_metadata.grounding_chunks} == {"bananas"}
    nothing = _ask(client, [store], "Claudius", metadata_filter='kind = "car"')
    assert nothing.candidates[0].grounding_metadata is None   # nothing retrieved: nothing to cite
    body = {"contents": [{"parts": [{"text": "hi"}]}],
            "tools": [{"fileSearch": {"fileSearchStoreNames": [store], "metadataFilter": "year >>> 3"}}]}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="metadataFilter")
    body["tools"][0]["fileSearch"] = {"fileSearchStoreNames": []}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field="fileSearchStoreNames")


def test_file_search_on_a_missing_or_foreign_store_is_403(client, gemini_mock):
    store = _store(client)
    _upload(client, store, CLAUDIUS, "claudius")
    other = gemini_mock.client(api_key=gemini_mock.other_key("intruder"), api_version="v1beta")
    for caller, names in ((client, ["fileSearchStores/missing"]), (other, [store])):
        with pytest.raises(errors.ClientError) as caught:
            _ask(caller, names, "Who wrote it?")
        assert caught.value.code == 403 and caught.value.status == "PERMISSION_DENIED"


def test_file_search_when_streaming(client):
    store = _store(client)
    _upload(client, store, BANANAS, "bananas")
    tool = types.Tool(file_search=types.FileSearch(file_search_store_names=[store]))
    chunks = list(client.models.generate_content_stream(
        model=MODEL, contents="potassium fruit", config=types.GenerateContentConfig(tools=[tool])))
    text = "".join(c.text or "" for c in chunks)
    assert text.startswith("Bananas are yellow tropical fruit.")
    grounded = [c for c in chunks if c.candidates and c.candidates[0].grounding_metadata]
    assert grounded and grounded[-1].candidates[0].grounding_metadata.grounding_chunks


# -- state ---------------------------------------------------------------------------------------------

def test_export_and_import_keep_stores_documents_and_operations(client, gemini_mock):
    store = _store(client)
    operation = _upload(client, store, BANANAS, "bananas")
    state = gemini_mock.store.export_state()
    gemini_mock.store.file_search_stores.reset()
    assert client.file_search_stores.list().page == []
    gemini_mock.store.import_state(json.loads(json.dumps(state)))
    assert client.file_search_stores.get(name=store).active_documents_count == 1
    assert client.operations.get(operation).response.document_name == operation.response.document_name
    assert _ask(client, [store], "potassium").candidates[0].grounding_metadata.grounding_chunks
    assert not gemini_mock.store.internal_errors


def test_the_control_plane_exports_imports_and_journals_file_search(client, gemini_mock):
    import httpx
    store = _store(client)
    document = _upload(client, store, BANANAS, "bananas").response.document_name
    journal = [(e["method"], e["path"], e["project"], e["status"]) for e in gemini_mock.requests]
    assert ("POST", f"/upload/v1beta/{store}:uploadToFileSearchStore", gemini_mock.project, 200) in journal
    with httpx.Client(base_url=gemini_mock.base_url, timeout=30) as control:
        saved = control.get("/_mock/state:export").json()
        assert control.post("/_mock/reset").status_code == 200
        assert client.file_search_stores.list().page == []
        assert control.post("/_mock/state:import", json=saved).status_code == 200
    assert client.file_search_stores.documents.get(name=document).state == types.DocumentState.STATE_ACTIVE
    assert _ask(client, [store], "potassium").text.startswith("Bananas are yellow")


def test_answers_match_the_recorded_schemas(client, http):
    store = _store(client)
    upload = http.post(f"/upload/v1beta/{store}:uploadToFileSearchStore", content=CLAUDIUS.encode(),
                       headers={"Content-Type": "text/plain"}).json()
    validate_response("v1beta", "Operation", upload)
    document = upload["response"]["documentName"]
    http.post(f"/upload/v1beta/{store}:uploadToFileSearchStore",
              content=b"\x89PNG\r\n\x1a\n\x00\x01", headers={"Content-Type": "image/png"})
    for path, message in ((store, "FileSearchStore"), ("fileSearchStores", "ListFileSearchStoresResponse"),
                          (f"{store}/documents", "ListDocumentsResponse"), (document, "Document")):
        validate_response("v1beta", message, http.get(f"/v1beta/{path}").json())
    body = {"contents": [{"parts": [{"text": "Who wrote I, Claudius?"}]}],
            "tools": [{"fileSearch": {"fileSearchStoreNames": [store], "topK": 2}}]}
    answer = http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).json()
    validate_response("v1beta", "GenerateContentResponse", answer)
    assert len(answer["candidates"][0]["groundingMetadata"]["groundingChunks"]) == 1   # the PNG failed
