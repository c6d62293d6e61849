"""File Search stores (`fileSearchStores/{id}`), their documents, the operations that index them, and the
retrieval a `fileSearch` tool runs.

Backend (`FileSearchStores`, no HTTP): per project, stores, documents and operations. A document's bytes
live on disk under `store.project_dir(project)/file_search/`; it is STATE_PENDING until
`fileSearch.processingSeconds` after it was added, then STATE_ACTIVE, or STATE_FAILED when no text could
be read from it (the emulator indexes text documents, and PDFs by their text layer: no OCR, no Office
formats). Its operation (`.../upload/operations/{id}` for
uploads, `.../operations/{id}` for importFile) is done at that same moment. States (`DocumentRecord.timeline`,
`OperationRecord.timeline`) and the store's counters are computed from the clock when read; nothing runs in
the background.

Chunks and their embeddings are computed from the stored bytes when the document is added (in the worker
thread that stores it) and kept in memory; they are a pure function of the bytes, the chunking config and
the embedding model, so they are not persisted (after a restart the first query that needs them recomputes
them). Wire facts: google-genai 3.6.1 file_search_stores.py / documents.py / types.py (fields,
`force` as a query parameter), the v1beta method list (paths, the 100 MB upload limit), the
DeleteFileSearchStoreConfig docs (FAILED_PRECONDITION without `force` when the store holds documents).

The upload endpoints are in file_search_upload.py; `retrieve()` is what generateContent's tool (and any
other generation path) calls.
"""
from __future__ import annotations

import builtins
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..auth import Identity
from ..errors import failed_precondition, invalid_argument, missing_resource
from ..generation import file_search
from ..generation.embeddings import embed_text
from ..http import Context, json_response, parse_json
from ..persistence import build, fields_of
from ..routing import GEMINI_VERSIONS, route
from ..timeline import OPERATION_DONE, Timeline, Transition, operation_timeline
from ..wire import format_time, int64, page_size, paginate
from .corpora import parse_bool

if TYPE_CHECKING:
    from ..store import Store

# Served on v1 too: google-genai 3.6.1 calls /v1 by default, and the File Search quickstart runs with it.
VERSIONS = GEMINI_VERSIONS
PENDING, ACTIVE, FAILED = "STATE_PENDING", "STATE_ACTIVE", "STATE_FAILED"
DEFAULT_EMBEDDING_MODEL = "models/gemini-embedding-001"
MAX_DISPLAY_NAME = 512
MAX_UPLOAD_BYTES = 104857600        # the v1beta method list: uploadToFileSearchStore maxSize
# The pages of a PDF read for its text: the limit the Gemini API's document understanding states for PDFs
# (ai.google.dev, "Document understanding": up to 1,000 pages); it also bounds the work of one upload.
MAX_PDF_PAGES = 1000
SUFFIX_LENGTH = 12
TYPE_PREFIX = "type.googleapis.com/google.ai.generativelanguage.v1beta."
# application/* types whose bytes are text (besides text/*)
TEXT_APPLICATION = ("json", "xml", "javascript", "x-python", "x-sh", "sql", "yaml", "x-yaml", "csv", "rtf",
                    "x-tex", "markdown", "typescript", "x-typescript", "toml", "x-httpd-php")


@dataclass
class StoreRecord:
    project: str
    id: str
    display_name: str
    embedding_model: str
    create_time: float
    update_time: float

    @property
    def name(self) -> str:
        return f"fileSearchStores/{self.id}"


@dataclass
class DocumentRecord:
    project: str
    store: str                      # the store's name
    id: str
    display_name: str
    mime_type: str
    size: int
    custom_metadata: list[dict[str, Any]]
    chunk_tokens: int
    overlap_tokens: int
    create_time: float
    ready_time: float               # STATE_PENDING until then
    path: Path
    seq: int
    error: str | None = None        # no text could be read: STATE_FAILED

    @property
    def name(self) -> str:
        return f"{self.store}/documents/{self.id}"

    def timeline(self) -> Timeline:
        """STATE_PENDING until `ready_time`, then STATE_ACTIVE (STATE_FAILED when no text could be read)."""
        return Timeline(PENDING, end=Transition(FAILED if self.error else ACTIVE, self.ready_time))


@dataclass
class OperationRecord:
    project: str
    name: str
    kind: str                       # "upload" or "import"
    store: str
    document: str
    mime_type: str
    size: int
    ready_time: float
    error: str | None = None

    def timeline(self) -> Timeline:
        """Running until `ready_time` (when its document is ready), done from then on."""
        return operation_timeline(self.ready_time)

    def done(self, now: float) -> bool:
        return self.timeline().state_at(now) == OPERATION_DONE


@dataclass
class _Index:
    """A document's chunks and their embeddings (by the store's model), computed on first use."""
    chunks: list[str]
    vectors: list[list[float]] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


def _is_text(mime: str) -> bool:
    base = mime.split(";")[0].strip().lower()
    return base.startswith("text/") or (base.startswith("application/") and base[12:] in TEXT_APPLICATION)


def extract_text(path: Path, mime: str) -> tuple[str | None, str | None]:
    """(text, None), or (None, why not): PDFs by their text layer, text types and any UTF-8 bytes as they
    are; other formats are not read."""
    with path.open("rb") as head:
        is_pdf = head.read(5) == b"%PDF-"
    if is_pdf or mime.split(";")[0].strip().lower() == "application/pdf":
        return _pdf_text(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None and ("\x00" not in text or _is_text(mime)):
        return text, None
    return None, (f"The emulator indexes text documents only; no text could be read from this {mime} "
                  f"document.")


def _pdf_text(path: Path) -> tuple[str | None, str | None]:
    """The text of a PDF's first MAX_PDF_PAGES pages, page after page (a blank line between them)."""
    import pypdf   # here, not at the top: it takes ~0.1 s to import, which every start-up would pay
    try:
        reader = pypdf.PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except Exception as error:   # a damaged PDF fails in many ways (pypdf's own errors, and KeyError, ValueError...)
        return None, f"The PDF could not be read ({type(error).__name__}: {str(error)[:200]})."
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        return None, ("The PDF has no text layer (scanned pages or images only); the emulator does no OCR, so "
                      "nothing could be indexed.")
    return text, None


def check_display_name(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_argument(f"{where} must be a string.", where)
    if len(value) > MAX_DISPLAY_NAME:
        raise invalid_argument(f"{where} must be at most {MAX_DISPLAY_NAME} characters.", where)
    return value


def request_fields(body: Any, allowed: dict[str, str]) -> dict[str, Any]:
    """A request body with snake_case keys turned camelCase; an unknown key is the parser's 400."""
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.")
    out = {}
    for key, value in body.items():
        name = allowed.get(key)
        if name is None:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.', key)
        out[name] = value
    return out


def camel_fields(*names: str) -> dict[str, str]:
    """{camelCase: camelCase, snake_case: camelCase} for `names`."""
    return {variant: name for name in names for variant in (name, re.sub(r"([A-Z])", r"_\1", name).lower())}


class FileSearchStores:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = store.lock
        self._stores: dict[str, dict[str, StoreRecord]] = {}        # project -> name -> store
        self._documents: dict[str, dict[str, DocumentRecord]] = {}  # project -> name -> document
        self._operations: dict[str, dict[str, OperationRecord]] = {}
        self._index: dict[tuple[str, str], _Index] = {}            # (project, document name) -> index
        self._seq = 0

    def reset(self) -> None:
        with self.lock:
            self._stores, self._documents, self._operations, self._index = {}, {}, {}, {}
            self._seq = 0

    @property
    def processing_seconds(self) -> float:
        return float(self.store.config["fileSearch"]["processingSeconds"])

    # -- stores ------------------------------------------------------------------------------------------
    def _store(self, project: str, name: str) -> StoreRecord:
        record = self._stores.get(project, {}).get(name)
        if record is None:
            raise missing_resource("FileSearchStore", name)
        return record

    def _documents_of(self, project: str, store_name: str) -> list[DocumentRecord]:
        docs = [d for d in self._documents.get(project, {}).values() if d.store == store_name]
        return sorted(docs, key=lambda d: d.seq)

    def state(self, doc: DocumentRecord) -> str:
        return doc.timeline().state_at(self.store.now())

    def render_store(self, record: StoreRecord) -> dict[str, Any]:
        counts = {PENDING: 0, ACTIVE: 0, FAILED: 0}
        size = 0
        for doc in self._documents_of(record.project, record.name):
            state = self.state(doc)
            counts[state] += 1
            size += doc.size if state == ACTIVE else 0
        body: dict[str, Any] = {"name": record.name}
        if record.display_name:
            body["displayName"] = record.display_name
        body["createTime"] = format_time(record.create_time)
        body["updateTime"] = format_time(record.update_time)
        # proto3 JSON: int64 counters as strings, zero values left out
        for key, state in (("activeDocumentsCount", ACTIVE), ("pendingDocumentsCount", PENDING),
                           ("failedDocumentsCount", FAILED)):
            if counts[state]:
                body[key] = int64(counts[state])
        if size:
            body["sizeBytes"] = int64(size)
        body["embeddingModel"] = record.embedding_model
        return body

    def create(self, identity: Identity, body: Any) -> dict[str, Any]:
        data = request_fields(body, camel_fields("displayName", "embeddingModel"))
        display = check_display_name(data.get("displayName"), "displayName")
        model_name = data.get("embeddingModel") or DEFAULT_EMBEDDING_MODEL
        model = self.store.models.find(model_name) if isinstance(model_name, str) else None
        if model is None or "embedContent" not in model.get("supportedGenerationMethods", ()):
            raise invalid_argument(f"embeddingModel {model_name!r} is not an embedding model; use one that "
                                   f"offers embedContent, such as {DEFAULT_EMBEDDING_MODEL}.", "embeddingModel")
        project = identity.project
        with self.lock:
            stem = _slug(display)[:40 - SUFFIX_LENGTH - 1].strip("-")
            while True:
                suffix = self.store.new_id(project, "fileSearchStore", SUFFIX_LENGTH)
                name = f"fileSearchStores/{stem}-{suffix}" if stem else f"fileSearchStores/{suffix}"
                if name not in self._stores.get(project, {}):
                    break
            now = self.store.now()
            record = StoreRecord(project, name.removeprefix("fileSearchStores/"), display, model["name"], now, now)
            self._stores.setdefault(project, {})[name] = record
        self.store.changed()
        return self.render_store(record)

    def get(self, identity: Identity, name: str) -> dict[str, Any]:
        with self.lock:
            return self.render_store(self._store(identity.project, name))

    def list(self, identity: Identity, size: int, token: str | None) -> dict[str, Any]:
        with self.lock:
            records = sorted(self._stores.get(identity.project, {}).values(), key=lambda r: (r.create_time, r.id))
            page, following = paginate([self.render_store(r) for r in records], size, token)
        body: dict[str, Any] = {"fileSearchStores": page} if page else {}
        if following:
            body["nextPageToken"] = following
        return body

    def delete(self, identity: Identity, name: str, force: bool) -> None:
        project = identity.project
        with self.lock:
            record = self._store(project, name)
            docs = self._documents_of(project, name)
            if docs and not force:
                raise failed_precondition(f"FileSearchStore {name} holds {len(docs)} documents; delete them "
                                          f"first or set force=true to delete them with the store.")
            for doc in docs:
                self._drop_document(doc)
            del self._stores[project][record.name]
            for op_name in [n for n, op in self._operations.get(project, {}).items() if op.store == name]:
                del self._operations[project][op_name]
        self.store.changed()

    def records(self) -> builtins.list[StoreRecord]:
        """Every store of every project, oldest first (for the dashboard and tests)."""
        with self.lock:
            return sorted((r for stores in self._stores.values() for r in stores.values()),
                          key=lambda r: (r.create_time, r.name))

    # -- documents ---------------------------------------------------------------------------------------
    def check_store(self, identity: Identity, name: str) -> StoreRecord:
        with self.lock:
            return self._store(identity.project, name)

    def add_document(self, identity: Identity, store_name: str, part: Path, *, size: int, mime_type: str,
                     display_name: str | None, custom_metadata: Any, chunking: Any, kind: str,
                     where: str = "") -> dict[str, Any]:
        """A new document from bytes already at `part` (moved into the store's folder), and its operation
        (JSON). `custom_metadata` and `chunking` are checked here (400s name `where` + the field)."""
        metadata = file_search.check_custom_metadata(custom_metadata, f"{where}customMetadata")
        chunk_tokens, overlap = file_search.check_chunking(chunking, f"{where}chunkingConfig")
        display = check_display_name(display_name, f"{where}displayName")
        project = identity.project
        if size > MAX_UPLOAD_BYTES:
            raise invalid_argument(f"The document is {size} bytes; a File Search document may be at most "
                                   f"{MAX_UPLOAD_BYTES} bytes.", "Content-Length")
        with self.lock:
            self._store(project, store_name)
            stem = _slug(display)[:40 - SUFFIX_LENGTH - 1].strip("-")
            doc_id = f"{stem}-{self.store.new_id(project, 'document', SUFFIX_LENGTH)}" if stem \
                else self.store.new_id(project, "document", SUFFIX_LENGTH)
            folder = self.store.project_dir(project) / "file_search"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{store_name.removeprefix('fileSearchStores/')}--{doc_id}"
        shutil.move(str(part), target)
        text, error = extract_text(target, mime_type)
        now = self.store.now()
        ready = now + self.processing_seconds
        with self.lock:
            self._seq += 1
            doc = DocumentRecord(project, store_name, doc_id, display, mime_type, size, metadata, chunk_tokens,
                                 overlap, now, ready, target, self._seq, error)
            self._documents.setdefault(project, {})[doc.name] = doc
            op_id = self.store.new_id(project, "fileSearchOperation", SUFFIX_LENGTH)
            prefix = f"{store_name}/upload/operations" if kind == "upload" else f"{store_name}/operations"
            op = OperationRecord(project, f"{prefix}/{op_id}", kind, store_name, doc.name, mime_type, size, ready,
                                 error)
            self._operations.setdefault(project, {})[op.name] = op
            self._stores[project][store_name].update_time = now
        self.store.changed(target)
        if error is None:
            self._indexed(doc)   # chunked and embedded now (the caller runs this off the event loop)
        return self.render_operation(op)

    def render_document(self, doc: DocumentRecord) -> dict[str, Any]:
        body: dict[str, Any] = {"name": doc.name}
        if doc.display_name:
            body["displayName"] = doc.display_name
        if doc.custom_metadata:
            body["customMetadata"] = doc.custom_metadata
        body["updateTime"] = format_time(max(doc.create_time, min(doc.ready_time, self.store.now())))
        body["createTime"] = format_time(doc.create_time)
        body["state"] = self.state(doc)
        body["sizeBytes"] = int64(doc.size)
        body["mimeType"] = doc.mime_type
        return body

    def _document(self, project: str, name: str) -> DocumentRecord:
        store_name = name.split("/documents/")[0]
        self._store(project, store_name)
        doc = self._documents.get(project, {}).get(name)
        if doc is None:
            raise missing_resource("Document", name)
        return doc

    def get_document(self, identity: Identity, name: str) -> dict[str, Any]:
        with self.lock:
            return self.render_document(self._document(identity.project, name))

    def list_documents(self, identity: Identity, store_name: str, size: int, token: str | None) -> dict[str, Any]:
        with self.lock:
            self._store(identity.project, store_name)
            docs = [self.render_document(d) for d in self._documents_of(identity.project, store_name)]
        page, following = paginate(docs, size, token)
        body: dict[str, Any] = {"documents": page} if page else {}
        if following:
            body["nextPageToken"] = following
        return body

    def delete_document(self, identity: Identity, name: str, force: bool) -> None:
        with self.lock:
            doc = self._document(identity.project, name)
            if not force and self.state(doc) == ACTIVE and self._has_chunks(doc):
                raise failed_precondition(f"Document {name} has chunks; set force=true to delete it with its "
                                          f"chunks.")
            self._drop_document(doc)
        self.store.changed()

    def _drop_document(self, doc: DocumentRecord) -> None:
        del self._documents[doc.project][doc.name]
        self._index.pop((doc.project, doc.name), None)
        self.store.discard(doc.path)

    # -- operations --------------------------------------------------------------------------------------
    def render_operation(self, op: OperationRecord) -> dict[str, Any]:
        body: dict[str, Any] = {"name": op.name}
        if not op.done(self.store.now()):
            return body
        body["done"] = True
        if op.error:
            body["error"] = {"code": 3, "message": op.error}   # google.rpc.Code INVALID_ARGUMENT
            return body
        kind = "UploadToFileSearchStoreResponse" if op.kind == "upload" else "ImportFileResponse"
        body["response"] = {"@type": TYPE_PREFIX + kind, "parent": op.store, "documentName": op.document}
        if op.kind == "upload":
            body["response"].update(mimeType=op.mime_type, sizeBytes=int64(op.size))
        return body

    def get_operation(self, identity: Identity, name: str) -> dict[str, Any]:
        with self.lock:
            self._store(identity.project, name.split("/")[0] + "/" + name.split("/")[1])
            op = self._operations.get(identity.project, {}).get(name)
            if op is None:
                raise missing_resource("Operation", name)
            return self.render_operation(op)

    # -- importFile ------------------------------------------------------------------------------------
    def import_file(self, identity: Identity, store_name: str, body: Any) -> dict[str, Any]:
        data = request_fields(body, camel_fields("fileName", "customMetadata", "chunkingConfig"))
        file_name = data.get("fileName")
        if not isinstance(file_name, str) or not file_name:
            raise invalid_argument("fileName is required: the Files API file to import (files/...).", "fileName")
        self.check_store(identity, store_name)
        record = self.store.files.record_of(identity, file_name)   # the one 403 for a missing file
        folder = self.store.project_dir(identity.project) / "file_search"
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"import-{self.store.new_id(identity.project, 'fileSearchImport', SUFFIX_LENGTH)}.part"
        shutil.copyfile(record.path, part)   # the document outlives the file's 48 h
        try:
            return self.add_document(identity, store_name, part, size=record.size, mime_type=record.mime_type,
                                     display_name=record.display_name or record.id,
                                     custom_metadata=data.get("customMetadata"),
                                     chunking=data.get("chunkingConfig"), kind="import")
        except BaseException:
            part.unlink(missing_ok=True)
            raise

    # -- retrieval -------------------------------------------------------------------------------------
    def _has_chunks(self, doc: DocumentRecord) -> bool:
        index = self._index.get((doc.project, doc.name))
        if index is not None:
            return bool(index.chunks)
        text, _ = extract_text(doc.path, doc.mime_type)
        return bool(text and text.strip())

    def _ranking_model(self, embedding_model: str) -> dict[str, Any] | None:
        model = self.store.models.find(embedding_model)
        return file_search.ranking_model(model) if model is not None else None

    def _indexed(self, doc: DocumentRecord) -> _Index:
        """The document's chunks and their embeddings, computed once (outside the store's lock: the work
        reads the bytes and embeds every chunk; two racing callers compute the same thing)."""
        key = (doc.project, doc.name)
        index = self._index.get(key)
        if index is None:
            text, _ = extract_text(doc.path, doc.mime_type)
            store = self._stores.get(doc.project, {}).get(doc.store)
            model = self._ranking_model(store.embedding_model) if store is not None else None
            chunks = file_search.chunk_text(text or "", doc.chunk_tokens, doc.overlap_tokens)
            vectors = [embed_text(model, chunk, "RETRIEVAL_DOCUMENT", title=doc.display_name or None)
                       for chunk in chunks] if model is not None else []
            index = _Index(chunks, vectors)
            with self.lock:
                if key in self._index or doc.name in self._documents.get(doc.project, {}):
                    index = self._index.setdefault(key, index)
        return index

    def retrieve(self, identity: Identity | str, tool: dict[str, Any], query: str,
                 where: str = "fileSearch") -> builtins.list[file_search.Retrieved]:
        """The best chunks of the stores a `fileSearch` tool names for `query` (see module doc)."""
        project = identity if isinstance(identity, str) else identity.project
        names = tool.get("fileSearchStoreNames")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise invalid_argument(f"{where}.fileSearchStoreNames must name at least one FileSearchStore.",
                                   f"{where}.fileSearchStoreNames")
        predicate = file_search.parse_filter(tool.get("metadataFilter"), f"{where}.metadataFilter")
        top_k = file_search.check_top_k(tool.get("topK"), f"{where}.topK")
        with self.lock:   # what to search, decided at one moment
            stores = [self._store(project, name if name.startswith("fileSearchStores/")
                                  else f"fileSearchStores/{name}") for name in names]
            searched = [(record, doc) for record in stores for doc in self._documents_of(project, record.name)
                        if self.state(doc) == ACTIVE and (predicate is None or predicate(
                            file_search.metadata_values(doc.custom_metadata)))]
        found: list[tuple[float, str, int, file_search.Retrieved]] = []
        queries: dict[str, list[float]] = {}
        for record, doc in searched:
            model = self._ranking_model(record.embedding_model)
            if model is None:
                continue
            if record.embedding_model not in queries:
                queries[record.embedding_model] = embed_text(model, query or " ", "RETRIEVAL_QUERY")
            index = self._indexed(doc)
            for n, (chunk, vector) in enumerate(zip(index.chunks, index.vectors)):
                score = file_search.similarity(queries[record.embedding_model], vector)
                found.append((-score, doc.name, n, file_search.Retrieved(
                    chunk, doc.display_name or doc.id, record.name, doc.name, score, doc.custom_metadata)))
        found.sort(key=lambda item: item[:3])
        return [item[3] for item in found[:top_k]]

    def interaction_tool(self, tool: dict[str, Any], where: str) -> dict[str, Any]:
        """An Interactions API `file_search` tool (snake_case, google-genai's FileSearch type) as the
        generateContent `fileSearch` tool that `retrieve` reads; the values are checked there."""
        names = {"file_search_store_names": "fileSearchStoreNames", "top_k": "topK",
                 "metadata_filter": "metadataFilter"}
        unknown = sorted(set(tool) - set(names) - {"type"})
        if unknown:
            raise invalid_argument(f"{where}.{unknown[0]} is not a field of the file_search tool.",
                                   f"{where}.{unknown[0]}")
        return {"fileSearch": {camel: tool[snake] for snake, camel in names.items() if tool.get(snake) is not None}}

    # -- state export and import (persistence.py) ------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "seq": self._seq,
                "stores": [fields_of(r) for stores in self._stores.values() for r in stores.values()],
                "documents": [fields_of(d, path=self.store.blob_ref(d.path))
                              for docs in self._documents.values() for d in docs.values()],
                "operations": [fields_of(o) for ops in self._operations.values() for o in ops.values()],
            }

    def import_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.reset()
            self._seq = int(data.get("seq") or 0)
            for item in data.get("stores") or []:
                record = build(StoreRecord, item)
                self._stores.setdefault(record.project, {})[record.name] = record
            for item in data.get("documents") or []:
                doc = build(DocumentRecord, item, path=self.store.blob_path(item["path"]))
                if doc.path.exists():
                    self._documents.setdefault(doc.project, {})[doc.name] = doc
            for item in data.get("operations") or []:
                op = build(OperationRecord, item)
                self._operations.setdefault(op.project, {})[op.name] = op


def register(store: Store) -> None:
    store.register("file_search_stores", FileSearchStores(store))


def retrieve(store: Store, identity: Identity | str, tool: dict[str, Any], query: str,
             where: str = "fileSearch") -> list[file_search.Retrieved]:
    """The retrieval of a `fileSearch` tool (FileSearch JSON, camelCase) for `query`, as any generation path
    calls it: the best chunks of the named stores of the caller's project. A missing or foreign store is
    the one 403; a bad filter or topK a 400 naming `where`."""
    return store.file_search_stores.retrieve(identity, tool, query, where)


# -- handlers ------------------------------------------------------------------------------------------

def _store_name(ctx: Context) -> str:
    return f"fileSearchStores/{ctx.params['store']}"


async def create_store(ctx: Context) -> Response:
    return json_response(ctx.store.file_search_stores.create(ctx.identity, parse_json(await ctx.body())))


async def list_stores(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), 10, 20)
    return json_response(ctx.store.file_search_stores.list(ctx.identity, size, ctx.query("pageToken")))


async def get_store(ctx: Context) -> Response:
    return json_response(ctx.store.file_search_stores.get(ctx.identity, _store_name(ctx)))


async def delete_store(ctx: Context) -> Response:
    force = parse_bool(ctx.query("force"), "force")
    ctx.store.file_search_stores.delete(ctx.identity, _store_name(ctx), force)
    return json_response({})


async def import_file(ctx: Context) -> Response:
    body = parse_json(await ctx.body())
    ctx.heavy = True   # copies the file's bytes and indexes them: off the event loop
    return json_response(await ctx.work(ctx.store.file_search_stores.import_file, ctx.identity, _store_name(ctx),
                                        body))


async def list_documents(ctx: Context) -> Response:
    size = page_size(ctx.query("pageSize"), 10, 20)
    return json_response(ctx.store.file_search_stores.list_documents(ctx.identity, _store_name(ctx), size,
                                                                     ctx.query("pageToken")))


async def get_document(ctx: Context) -> Response:
    name = f"{_store_name(ctx)}/documents/{ctx.params['document']}"
    return json_response(ctx.store.file_search_stores.get_document(ctx.identity, name))


async def delete_document(ctx: Context) -> Response:
    force = parse_bool(ctx.query("force"), "force")
    name = f"{_store_name(ctx)}/documents/{ctx.params['document']}"
    ctx.store.file_search_stores.delete_document(ctx.identity, name, force)
    return json_response({})


async def get_operation(ctx: Context) -> Response:
    return json_response(ctx.store.file_search_stores.get_operation(
        ctx.identity, f"{_store_name(ctx)}/operations/{ctx.params['operation']}"))


async def get_upload_operation(ctx: Context) -> Response:
    return json_response(ctx.store.file_search_stores.get_operation(
        ctx.identity, f"{_store_name(ctx)}/upload/operations/{ctx.params['operation']}"))


ROUTES = [
    route("POST", "fileSearchStores", create_store, versions=VERSIONS),
    route("GET", "fileSearchStores", list_stores, versions=VERSIONS),
    route("GET", "fileSearchStores/{store}", get_store, versions=VERSIONS),
    route("DELETE", "fileSearchStores/{store}", delete_store, versions=VERSIONS),
    route("POST", "fileSearchStores/{store}:importFile", import_file, versions=VERSIONS),
    route("GET", "fileSearchStores/{store}/documents", list_documents, versions=VERSIONS),
    route("GET", "fileSearchStores/{store}/documents/{document}", get_document, versions=VERSIONS),
    route("DELETE", "fileSearchStores/{store}/documents/{document}", delete_document, versions=VERSIONS),
    route("GET", "fileSearchStores/{store}/operations/{operation}", get_operation, versions=VERSIONS),
    route("GET", "fileSearchStores/{store}/upload/operations/{operation}", get_upload_operation,
          versions=VERSIONS),
]
