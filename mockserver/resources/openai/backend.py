"""What the layer keeps itself: file purposes and OpenAI batch bookkeeping (`store.openai`)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any


from ...errors import not_found
from ...persistence import build, fields_of

if TYPE_CHECKING:
    from ...store import Store

# -- the backend ------------------------------------------------------------------------------------


@dataclass
class OpenAIBatch:
    """What an OpenAI batch adds to the native batch it runs as."""
    name: str                      # batches/{id}, the native job and the OpenAI id
    project: str
    input_file_id: str             # the JSONL the client uploaded (OpenAI format)
    native_input: str              # the converted JSONL the native batch reads
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    model: str                     # as the client named it
    created: float
    seq: int
    models: dict[str, str] = field(default_factory=dict)   # custom_id -> the model its line named
    # embeddings batches: custom_id -> [encoding_format, prompt tokens] of its line
    embeddings: dict[str, list[Any]] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    converted: bool = False


class OpenAICompat:
    """File purposes and OpenAI batch bookkeeping, per project. Registered as `store.openai`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._purposes: dict[tuple[str, str], str] = {}
        self._batches: dict[str, dict[str, OpenAIBatch]] = {}
        self._seq = 0

    def reset(self) -> None:
        with self.lock:
            self._purposes.clear()
            self._batches.clear()
            self._seq = 0

    # -- files -------------------------------------------------------------------------------------
    def set_purpose(self, project: str, file_name: str, purpose: str) -> None:
        with self.lock:
            self._purposes[(project, file_name)] = purpose

    def purpose_of(self, project: str, file: dict[str, Any]) -> str:
        with self.lock:
            purpose = self._purposes.get((project, file["name"]))
        if purpose:
            return purpose
        return "batch_output" if file.get("source") == "GENERATED" else "user_data"

    def forget_file(self, project: str, file_name: str) -> None:
        with self.lock:
            self._purposes.pop((project, file_name), None)

    # -- batches -----------------------------------------------------------------------------------
    def add_batch(self, batch: OpenAIBatch) -> OpenAIBatch:
        with self.lock:
            self._seq += 1
            batch.seq = self._seq
            self._batches.setdefault(batch.project, {})[batch.name] = batch
        return batch

    def batch(self, project: str, name: str) -> OpenAIBatch:
        name = name if name.startswith("batches/") else f"batches/{name}"
        with self.lock:
            found = self._batches.get(project, {}).get(name)
        if found is None:
            raise not_found(f"Batch {name} was not found (batches created through the OpenAI-compatible "
                            f"API are looked up here).")
        return found

    def batches(self, project: str) -> list[OpenAIBatch]:
        with self.lock:
            return sorted(self._batches.get(project, {}).values(), key=lambda b: -b.seq)

    def drop_batch(self, batch: OpenAIBatch) -> None:
        with self.lock:
            self._batches.get(batch.project, {}).pop(batch.name, None)

    # -- state export and import (persistence.py) ----------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {"seq": self._seq,
                    "purposes": [[project, name, purpose] for (project, name), purpose in self._purposes.items()],
                    "batches": [fields_of(b, models=dict(b.models), embeddings=dict(b.embeddings))
                                for batches in self._batches.values() for b in batches.values()]}

    def import_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._purposes = {(project, name): purpose for project, name, purpose in data.get("purposes") or []}
            self._batches = {}
            for item in data.get("batches") or []:
                batch = build(OpenAIBatch, item)
                self._batches.setdefault(batch.project, {})[batch.name] = batch
            self._seq = int(data.get("seq") or 0)


def register(store: Store) -> None:
    store.register("openai", OpenAICompat(store))
