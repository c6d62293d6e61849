"""The Files API: uploads (resumable, multipart, raw), the File resource, downloads and 48 h expiry.

Backend (`FileStore`, no HTTP): per project, a dict of `FileRecord`s whose bytes live on disk under
`store.project_dir(project)/files/`, and the upload sessions in progress, whose bytes grow in
`store.project_dir(project)/uploads/` until they are finalised. State (PROCESSING -> ACTIVE or FAILED)
and expiry are computed from `store.now()` whenever a file is read; an expired file, or an upload left
unfinished for `files.abandonedUploadSeconds`, is removed (bytes included) the next time it is touched
or its project's files are listed. There are no timers.

The resumable protocol, as the SDKs speak it:

* start: `POST /upload/{version}/files` with `X-Goog-Upload-Protocol: resumable` and
  `X-Goog-Upload-Command: start`; metadata `{"file": {...}}` in the body. Answer: 200 with
  `X-Goog-Upload-URL` (this server's own address, carrying `upload_id`).
* chunks: `POST <upload URL>` with `X-Goog-Upload-Command: upload` or `upload, finalize` and
  `X-Goog-Upload-Offset`. Authorised by the upload id alone (the Python SDK sends no key on them).
  Every answer carries `X-Goog-Upload-Status`: `active`, or `final` with `{"file": {...}}` on finalize.
  Error answers carry `final` when the upload is over (unknown, finalised, cancelled for a size limit)
  and `active` with `X-Goog-Upload-Size-Received` when it can go on (a wrong offset).
* `X-Goog-Upload-Command: query` answers the bytes received so far (`X-Goog-Upload-Size-Received`);
  `cancel` drops the upload.

Media bytes are never held whole in memory: handlers feed the request stream, piece by piece, to a
`Receiver`, which appends them to the upload's file, hashes them and enforces the size limits.

One module per concern: `records` (FileRecord, Upload, Receiver, names, MIME types), `store` (the backend,
`store.files`), `upload` (the upload protocols over HTTP) and `handlers` (the File resource over HTTP, the
route table). Multipart bodies are read by `mockserver/multipart.py`.
"""
from __future__ import annotations

from .handlers import ROUTES, bytes_response
from .records import ACTIVE, FAILED, GENERATED, PROCESSING, UPLOADED, FileRecord, Limits, Receiver, Upload
from .store import FileStore, register
from .upload import base_url

__all__ = ["ACTIVE", "FAILED", "GENERATED", "PROCESSING", "ROUTES", "UPLOADED", "FileRecord", "FileStore", "Limits",
           "Receiver", "Upload", "base_url", "bytes_response", "register"]
