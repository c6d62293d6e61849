"""The emulator's state: config, clock, keys, the request journal and one backend per resource.

Backends are plain Python objects (no HTTP); each registers here under its resource name so handlers,
the control plane and the pytest plugin reach it as `store.files`, `store.batches`, ...

State export and import (persistence.py holds the format, the crash-safe writes and the loading): every
backend with state has `export_state() -> dict` (JSON-able; stored bytes by reference, `blob_ref`) and
`import_state(data)`; `Store.export_state` / `Store.import_state` add the config, the clock offset and
the id counters. `changed(*paths)` says that persistent state changed (after the change is made), and
which files on disk it now depends on; with a state dir the next answer waits until a snapshot holding
the change is durable.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from .auth import KeyRing
from .clock import Clock
from .config import Config
from .integrity import TOMBSTONE
from .journal import Journal
from .wire import format_time

if TYPE_CHECKING:   # the backends' classes, for the declarations in Store (no import at run time)
    from .live.session import Resumptions
    from .live.tokens import AuthTokens
    from .persistence import Persister
    from .rate_limits import RateLimits
    from .resources.batches import Batches
    from .resources.caches import ContextCaches
    from .resources.corpora import Corpora
    from .resources.environments import Environments
    from .resources.file_search_stores import FileSearchStores
    from .resources.files import FileStore
    from .resources.interactions.agents import Agents
    from .resources.interactions.backend import Interactions
    from .resources.interactions.webhooks import Webhooks
    from .resources.logs import Logs
    from .resources.media_generation import VideoOperations
    from .resources.models import Catalog
    from .resources.openai import OpenAICompat
    from .resources.permissions import Permissions
    from .resources.tuned_models import TunedModels
    from .resources.url_media import UrlMedia
    from .rules import Faults, Rules
    from .service_tiers import ServiceTiers
    from .tiers import Tiers
    from .usage import UsageLedger

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


class Backend(Protocol):
    def reset(self) -> None: ...


class Store:
    # The backends, as `register(store)` of each module in app.RESOURCES and app.SERVICES sets them
    # (`store.register(name, backend)`). `app.create_store` registers them all and the code reaches them as
    # these attributes, never checking for None; a store built by hand with fewer modules (a unit test's)
    # serves the paths that need only those, and reaching another is an AttributeError that names it.
    agents: Agents
    auth_tokens: AuthTokens
    batches: Batches
    caches: ContextCaches
    corpora: Corpora
    environments: Environments
    faults: Faults
    file_search_stores: FileSearchStores
    files: FileStore
    interactions: Interactions
    live_resumptions: Resumptions
    logs: Logs
    models: Catalog
    openai: OpenAICompat
    permissions: Permissions
    quotas: RateLimits
    rules: Rules
    service_tiers: ServiceTiers
    tiers: Tiers
    tuned_models: TunedModels
    urls: UrlMedia
    usage: UsageLedger
    video_operations: VideoOperations
    webhooks: Webhooks

    def __init__(self, config: Config | None = None, keys: KeyRing | None = None,
                 state_dir: str | Path | None = None, clock: Clock | None = None) -> None:
        self.config = config or Config()
        self.keys = keys or KeyRing()
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.journal = Journal(lambda: (self.config["limits"]["journalEntries"], self.config["limits"]["journalBytes"],
                                        self.config["limits"]["journalEntryBytes"]))
        self._own_dir = state_dir is None
        self.data_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="gemini-mock-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._counters: dict[tuple[str, str], int] = {}
        self.backends: dict[str, Backend] = {}
        self.internal_errors: list[str] = []  # every 500 is a bug; tests assert this stays empty
        # Change tracking for persistence: a generation number that grows with each persistent change,
        # and the files written since the last snapshot (fsynced before the next one).
        self.generation = 0
        self._unsynced: set[Path] = set()
        self._discarded: set[Path] = set()   # tombstones to remove once a snapshot without them is durable
        self._change_lock = threading.Lock()
        self.persister: Persister | None = None   # when the state is kept in a state dir

    # -- wiring ------------------------------------------------------------------------------------
    def register(self, name: str, backend: Backend) -> Backend:
        self.backends[name] = backend
        setattr(self, name, backend)
        return backend

    if not TYPE_CHECKING:   # hidden from the type checker, which then flags any undeclared name
        def __getattr__(self, name: str) -> Any:  # only called for names not set: a clear message
            raise AttributeError(f"the emulator has no backend named {name!r}")

    # -- shared services ---------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    def now(self) -> float:
        return self.clock.now()

    def timestamp(self, epoch: float | None = None) -> str:
        return format_time(self.clock.now() if epoch is None else epoch)

    def new_id(self, project: str, kind: str, length: int = 12) -> str:
        """A lowercase alphanumeric id, deterministic for (seed, project, kind, n-th id of that kind)."""
        with self.lock:
            n = self._counters.get((project, kind), 0)
            self._counters[(project, kind)] = n + 1
        digest = hashlib.blake2b(f"{self.seed}|{project}|{kind}|{n}".encode(), digest_size=16).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(length):
            number, index = divmod(number, 36)
            chars.append(_ID_ALPHABET[index])
        # ids start with a letter, as resource ids in the real API do
        chars[0] = _ID_ALPHABET[10 + int.from_bytes(digest[:2], "big") % 26]
        return "".join(chars)

    def project_dir(self, project: str) -> Path:
        path = self.data_dir / "projects" / project
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- change tracking and blobs -------------------------------------------------------------------
    def changed(self, *paths: Path) -> None:
        """Persistent state changed (call it after the change is made); `paths`: files written that the
        state now refers to (made durable before the snapshot that holds the change)."""
        with self._change_lock:
            self.generation += 1
            if paths and self.persister is not None:
                self._unsynced.update(Path(p) for p in paths)

    def discard(self, path: Path) -> None:
        """Remove stored bytes the state no longer refers to. With a state dir they are renamed to a
        tombstone (`<name>.deleted`) at once and removed once a snapshot without them is durable, so a
        restart in between tells a delete under way (the tombstone) from lost bytes (nothing)."""
        path = Path(path)
        if self.persister is None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            return
        tombstone = path.with_name(path.name + TOMBSTONE)
        try:
            os.replace(path, tombstone)
        except FileNotFoundError:
            return
        with self._change_lock:
            self._discarded.add(tombstone)

    def take_discarded(self) -> set[Path]:
        with self._change_lock:
            paths, self._discarded = self._discarded, set()
        return paths

    def take_unsynced(self) -> set[Path]:
        with self._change_lock:
            paths, self._unsynced = self._unsynced, set()
        return paths

    def give_back(self, unsynced: Iterable[Path], discarded: Iterable[Path]) -> None:
        """Put back what `take_unsynced` and `take_discarded` gave, when the snapshot that was to make
        them durable failed: the next one takes them again."""
        with self._change_lock:
            self._unsynced.update(unsynced)
            self._discarded.update(discarded)

    def blob_ref(self, path: Path | str) -> dict[str, str]:
        """A reference to stored bytes, as exports write it: the path relative to the data dir."""
        text, root = str(path), str(self.data_dir) + os.sep
        if text.startswith(root):   # backends build their paths from data_dir: no file-system calls
            return {"$blob": text[len(root):].replace(os.sep, "/")}
        return {"$blob": Path(path).resolve().relative_to(self.data_dir.resolve()).as_posix()}

    def blob_path(self, ref: dict[str, Any] | str) -> Path:
        """Where the bytes of a `blob_ref` live; a reference that leaves the data dir is a ValueError."""
        rel = ref["$blob"] if isinstance(ref, dict) else ref
        if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel \
                or any(part in ("", ".", "..") for part in rel.split("/")):
            raise ValueError(f"invalid stored-bytes reference {rel!r}")
        return self.data_dir / rel

    # -- export and import ---------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Config, clock offset, id counters and every backend's state, as one JSON-able dict."""
        with self.lock:
            counters = sorted([project, kind, n] for (project, kind), n in self._counters.items())
        backends = {}
        for name, backend in self.backends.items():
            export = getattr(backend, "export_state", None)
            if export is not None:
                backends[name] = export()
        return {"config": self.config.as_dict(), "clock": {"offsetSeconds": self.clock.offset,
                                                            "now": self.timestamp()},
                "counters": counters, "backends": backends}

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace config, clock offset, counters and every backend's state by `state` (an `export_state`).
        The bytes it refers to must be in the data dir already. Backends it does not name are reset."""
        with self.lock:
            self.config.reset()
            config = state.get("config") or {}
            try:
                self.config.patch(config)
            except Exception:   # a key this version does not know: take the others one by one
                for key, value in config.items():
                    try:
                        self.config.patch({key: value})
                    except Exception:
                        pass
            self.clock.reset()
            self.clock.advance(float((state.get("clock") or {}).get("offsetSeconds") or 0.0))
            self._counters = {(project, kind): int(n) for project, kind, n in state.get("counters") or []}
        saved = state.get("backends") or {}
        for name, backend in self.backends.items():
            restore = getattr(backend, "import_state", None)
            if restore is None:
                continue
            if name in saved:
                restore(saved[name])
            else:
                restore({})

    # -- control -----------------------------------------------------------------------------------
    def reset(self, *, config: bool = False, clock: bool = False) -> None:
        """Wipe every resource and the journal; config and clock too when asked."""
        with self.lock:
            for backend in self.backends.values():
                backend.reset()
            self.journal.clear()
            self._counters.clear()
            if config:
                self.config.reset()
            if clock:
                self.clock.reset()

    def close(self) -> None:
        if self.persister is not None:
            self.persister.close()   # a last snapshot (with what was kept lazily) and the dir's lock
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
