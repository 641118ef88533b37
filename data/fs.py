"""Where a store lives: a local folder, or an fsspec URL (``s3://bucket/prefix``) and the object operations it needs.

A local store keeps its own code paths (pathlib, flock, rename), so local behaviour and speed
are unchanged; only a URL store goes through fsspec. S3 is reached through s3fs, fsspec's own
S3 filesystem: the one Polars, PyArrow and Dask already read ``s3://`` through, with the
conditional puts (``If-None-Match``/``If-Match``) the store lock needs.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

S3_ENDPOINT_ENV = "BESS_S3_ENDPOINT_URL"  # e.g. http://127.0.0.1:9000 for MinIO; AWS_ENDPOINT_URL works too
CACHE_ENV = "BESS_CACHE_DIR"  # where a reader keeps the verified files of remote versions
# Protocols whose conditional puts data/objlock.py speaks; other fsspec URLs can be read, not written.
WRITABLE_PROTOCOLS = ("s3", "s3a")


class StoreURLError(ValueError):
    """A --store / BESS_STORE URL that cannot be used."""


class StoreAccessError(OSError):
    """The object store could not be reached or refused us (no credentials, no bucket, network)."""


def _access(method):
    """Errors of the object-store client as OSErrors naming the store: botocore raises its own
    types for missing credentials or an unreachable endpoint, which callers would not expect."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (OSError, ValueError) as exc:
            if isinstance(exc, (FileNotFoundError, FileExistsError, StoreAccessError)) or not _from_client(exc):
                raise
            raise StoreAccessError(f"store {self}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - botocore/aiohttp errors, translated once here
            if not _from_client(exc):
                raise
            raise StoreAccessError(f"store {self}: {type(exc).__name__}: {exc}{_hint(exc)}") from exc
    return wrapper


def _from_client(exc: BaseException) -> bool:
    mod = type(exc).__module__ or ""
    return mod.startswith(("botocore", "aiobotocore", "aiohttp", "s3fs")) or isinstance(exc, OSError)


def _hint(exc: BaseException) -> str:
    if "Credentials" in type(exc).__name__:
        return " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
    if "Endpoint" in type(exc).__name__ or "Connect" in type(exc).__name__:
        return f" (is {S3_ENDPOINT_ENV} right?)"
    return ""


def is_url(store: str | os.PathLike | None) -> bool:
    """True for ``scheme://...`` (but ``file://``, which is a local folder)."""
    text = os.fspath(store) if store is not None else ""
    return isinstance(text, str) and "://" in text and not text.startswith("file://")


@dataclass(frozen=True)
class RemoteStore:
    """A store root on an fsspec filesystem, named by its URL (no trailing slash)."""

    url: str

    @staticmethod
    def parse(text: str) -> RemoteStore:
        protocol, _, rest = text.partition("://")
        rest = rest.strip("/")
        if not protocol or not rest:
            raise StoreURLError(f"store URL {text!r} names no bucket; write it as s3://BUCKET/PREFIX")
        return RemoteStore(f"{protocol.lower()}://{rest}")

    def __str__(self) -> str:
        return self.url

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0]

    @property
    def fs(self):
        return filesystem(self.protocol)

    def key(self, rel: str = "") -> str:
        """Full URL of ``rel`` (a '/'-separated path below the root)."""
        return f"{self.url}/{rel}" if rel else self.url

    @_access
    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self.key(rel))

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8")

    @_access
    def write_bytes(self, rel: str, data: bytes) -> None:
        """One PUT: the object is replaced whole or not at all (S3 has no partial objects)."""
        self.fs.pipe_file(self.key(rel), data)

    @_access
    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.key(rel))

    @_access
    def size(self, rel: str) -> int:
        return int(self.fs.info(self.key(rel))["size"])

    @_access
    def sizes(self, rel: str) -> dict[str, int]:
        """Size of every object below ``rel``, by path relative to ``rel`` (one listing)."""
        base = _strip(self.fs, self.key(rel)) + "/"
        found = self.fs.find(self.key(rel), detail=True)
        return {name[len(base):]: int(info["size"]) for name, info in found.items() if name.startswith(base)}

    @_access
    def names(self, rel: str) -> list[str]:
        """Names of the entries (objects and 'folders') directly below ``rel``; [] when there are none."""
        try:
            return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.key(rel), detail=False))
        except FileNotFoundError:
            return []

    @_access
    def put_files(self, pairs: list[tuple[Path, str]]) -> None:
        """Upload local files (concurrently, s3fs batches them)."""
        if pairs:
            self.fs.put([str(p) for p, _ in pairs], [self.key(r) for _, r in pairs])

    @_access
    def copy_objects(self, pairs: list[tuple[str, str]]) -> None:
        """Server-side copies (no bytes through this machine), e.g. unchanged outputs of the previous version."""
        if pairs:
            self.fs.copy([self.key(s) for s, _ in pairs], [self.key(d) for _, d in pairs])

    @_access
    def remove(self, rel: str) -> None:
        """Delete an object or everything below a prefix; gone already is fine."""
        try:
            self.fs.rm(self.key(rel), recursive=True)
        except FileNotFoundError:
            pass

    @_access
    def get_file(self, rel: str, local: Path) -> None:
        self.fs.get_file(self.key(rel), str(local))

    @_access
    def get_files(self, pairs: list[tuple[str, Path]]) -> None:
        """Download objects (concurrently) to local files whose folders exist."""
        if pairs:
            self.fs.get([self.key(r) for r, _ in pairs], [str(p) for _, p in pairs])

    @_access
    def info(self, rel: str) -> dict:
        return self.fs.info(self.key(rel))

    @_access
    def call_s3(self, method: str, **kwargs) -> dict:
        """One S3 API call (the lock's conditional puts and deletes)."""
        return self.fs.call_s3(method, **kwargs)

    def cache_dir(self, version: str) -> Path:
        """Local folder for the verified files of one version of this store (see fetch_verified)."""
        tag = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        return cache_root() / tag / version


def filesystem(protocol: str):
    """The fsspec filesystem for a protocol (fsspec caches instances, also per process after a fork).

    The listings cache is off: CURRENT and the versions/ listing change under a running reader.
    """
    import fsspec

    opts: dict = {"use_listings_cache": False}
    if protocol in ("s3", "s3a"):
        endpoint = os.environ.get(S3_ENDPOINT_ENV)
        if endpoint:
            opts["endpoint_url"] = endpoint
    try:
        return fsspec.filesystem(protocol, **opts)
    except (ValueError, ImportError) as exc:
        raise StoreURLError(f"store protocol {protocol!r} is not available: {exc}") from None


def _strip(fs, url: str) -> str:
    return fs._strip_protocol(url).rstrip("/")


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(tempfile.gettempdir()) / f"bess-cache-{os.getuid()}"


def fetch_verified(store: RemoteStore, obj: str, local: Path, sha256: str, size: int) -> Path:
    """A local copy at ``local`` of the object ``obj`` of a published (immutable) version, checked
    against its manifest checksum before it is kept.

    Every served file is hashed once before it is first served anyway, which reads it whole, so
    the verified bytes are kept: later reads are local Parquet reads with row-group pruning.
    Raises ValueError when the object does not match (nothing is kept), FileNotFoundError when gone.
    """
    try:
        if local.stat().st_size == size:
            return local  # only verified files are ever renamed into place
    except FileNotFoundError:
        pass
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f"{local.name}.part-{os.getpid()}-{threading.get_ident()}")
    try:
        store.get_file(obj, tmp)
        h = hashlib.sha256()
        with open(tmp, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        if tmp.stat().st_size != size or h.hexdigest() != sha256:
            raise ValueError("fails its checksum (corrupted or modified)")
        os.replace(tmp, local)
    finally:
        tmp.unlink(missing_ok=True)
    return local


def prune_cache(store: RemoteStore, keep: set[str]) -> None:
    """Drop the cached files of versions not in ``keep`` (pruned from the store, or long replaced)."""
    d = store.cache_dir("x").parent
    if d.is_dir():
        for p in d.iterdir():
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
