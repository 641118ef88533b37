"""The single-writer lock of a store on S3: a lock object created by a conditional put, renewed while held.

The rule (README "Store on an object store", RELIABILITY.md):

* An ingest creates ``<store>/.ingest.lock`` with ``If-None-Match: *``. S3 lets exactly one of
  several concurrent creators succeed; the others get 412 and are refused (StoreLockedError).
* The object says who holds it (host, pid, a random owner id) and until when (``expires_utc``).
  The holder renews it every third of its time-to-live with ``If-Match: <its ETag>``; a renewal
  that fails means the lock was taken over, and the holder stops before it publishes.
* A lock past its expiry was left by a killed ingest. The next ingest takes it over with
  ``If-Match: <the stale ETag>``, so of several ingests finding the same stale lock only one wins.
* Just before writing ``CURRENT`` the holder re-reads the lock and checks it is still its own.
* Expiry compares the holder's clock with the taker's: writers' clocks must agree to well within
  the time-to-live (NTP does; the default is 120 s, ``BESS_LOCK_TTL_S``).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

from data.fs import WRITABLE_PROTOCOLS, RemoteStore, StoreURLError
from data.publish import LOCK_FILE, StoreLockedError

LOCK_TTL_ENV = "BESS_LOCK_TTL_S"
DEFAULT_LOCK_TTL_S = 120.0


def lock_ttl_s() -> float:
    text = os.environ.get(LOCK_TTL_ENV)
    if not text:
        return DEFAULT_LOCK_TTL_S
    try:
        ttl = float(text)
    except ValueError:
        raise StoreURLError(f"{LOCK_TTL_ENV}={text!r} is not a number of seconds") from None
    if not ttl > 0:
        raise StoreURLError(f"{LOCK_TTL_ENV}={text!r} must be a positive number of seconds")
    return ttl


class ObjectLock:
    """``with ObjectLock(store):`` holds the store's lock object; StoreLockedError when another ingest does."""

    def __init__(self, store: RemoteStore, ttl_s: float | None = None):
        if store.protocol not in WRITABLE_PROTOCOLS:
            raise StoreURLError(f"store {store}: writing needs conditional puts, which BESS-OS speaks for "
                                f"{', '.join(p + '://' for p in WRITABLE_PROTOCOLS)} only; {store.protocol}:// "
                                "stores can be read")
        self.store = store
        self.url = store.key(LOCK_FILE)
        self.ttl_s = lock_ttl_s() if ttl_s is None else ttl_s
        self.owner = uuid.uuid4().hex
        self.etag: str | None = None
        self.took_over: str | None = None  # the stale holder this lock replaced, for the report
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        bucket, key, _ = store.fs.split_path(self.url)
        self._where = {"Bucket": bucket, "Key": key}

    def _body(self) -> bytes:
        now = datetime.now(timezone.utc)
        return json.dumps({
            "owner": self.owner, "host": socket.gethostname(), "pid": os.getpid(),
            "acquired_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expires_utc": (now + timedelta(seconds=self.ttl_s)).isoformat(), "ttl_s": self.ttl_s,
        }).encode()

    def _put(self, **condition) -> str:
        return self.store.call_s3("put_object", **self._where, Body=self._body(), **condition)["ETag"]

    def __enter__(self) -> ObjectLock:
        try:
            self.etag = self._put(IfNoneMatch="*")
        except FileExistsError:
            self.etag = self._take_over_stale()
        self._thread = threading.Thread(target=self._heartbeat, name="bess-store-lock", daemon=True)
        self._thread.start()
        return self

    def _holder(self) -> tuple[dict, str | None]:
        try:
            etag = self.store.info(LOCK_FILE).get("ETag")
            holder = json.loads(self.store.read_bytes(LOCK_FILE))
        except FileNotFoundError:
            return {}, None
        except ValueError:
            holder = {}
        return (holder if isinstance(holder, dict) else {}), etag

    def _take_over_stale(self) -> str:
        holder, etag = self._holder()
        if etag is None:  # released between our put and our look: try once more
            try:
                return self._put(IfNoneMatch="*")
            except FileExistsError:
                holder, etag = self._holder()
        who = f"{holder.get('host', '?')} pid {holder.get('pid', '?')}"
        try:
            expires = datetime.fromisoformat(holder["expires_utc"])
        except (KeyError, TypeError, ValueError):
            expires = None  # unreadable lock object: treat as stale, the conditional put still decides
        if expires is not None and datetime.now(timezone.utc) < expires:
            raise StoreLockedError(f"another ingest is running on store {self.store} (lock {self.url} held by {who} "
                                   f"until {expires:%Y-%m-%d %H:%M:%S}Z); wait for it to finish")
        try:
            new = self._put(IfMatch=etag)  # only one of several takers matches the stale ETag
        except (OSError, FileExistsError):
            raise StoreLockedError(f"another ingest took over the stale lock {self.url} first; "
                                   "wait for it to finish") from None
        self.took_over = f"took over the expired store lock of {who} (a killed ingest)"
        return new

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self.etag = self._put(IfMatch=self.etag)
            except OSError as exc:
                self._lost = f"the store lock {self.url} could not be renewed ({exc}); taken over?"
                return

    def check(self) -> None:
        """Raise StoreLockedError unless this lock is still held (called right before publishing)."""
        if self._lost:
            raise StoreLockedError(self._lost + " Not published.")
        holder, _ = self._holder()
        if holder.get("owner") != self.owner:
            raise StoreLockedError(f"the store lock {self.url} is no longer ours (expired and taken over by "
                                   f"{holder.get('host', '?')} pid {holder.get('pid', '?')}); not published")

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.etag is not None and not self._lost:
            try:
                self.store.call_s3("delete_object", **self._where, IfMatch=self.etag)
            except (OSError, FileNotFoundError):
                pass  # no longer ours: leave the new holder's lock alone
            self.etag = None
