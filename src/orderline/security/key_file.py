"""The key file: our signing keys and the test gateway's callback secret, in a file only its owner may read.

Readers never see half a file: it is written whole to a new 0600 file (O_CREAT | O_EXCL) and then put in
place in one step, by ``link`` when it is created (which, like O_EXCL, fails if someone was first) and by
``rename`` when it is rotated. Rotations hold an exclusive ``flock`` on the file, so two never lose a key.
"""

from __future__ import annotations

import base64
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import structlog

from orderline.config import MIN_SECRET_BYTES, SettingsError, webhook_secret_bytes
from orderline.security.signing_keys import KeyRing, KeysUnavailable, SigningKey, new_secret

log = structlog.get_logger("orderline")

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


class KeyFileError(KeysUnavailable):
    """The key file is missing, open to other users, or not a key file."""


class _StoredKey(msgspec.Struct, forbid_unknown_fields=True):
    secret: str
    created_at: AwareTime
    retired_at: AwareTime | None = None


class _Stored(msgspec.Struct, forbid_unknown_fields=True):
    format: Literal[1]
    signing_keys: list[_StoredKey]  # the current key first, then the retired ones, newest first
    test_gateway_secret: str


@dataclass(frozen=True, slots=True)
class KeyFileContents:
    ring: KeyRing
    test_gateway_secret: str


def read(path: Path) -> KeyFileContents:
    """The file's keys; refuses a file other users may read or change."""
    return _read(path)[0]


def create(path: Path, now: datetime) -> bool:
    """Make a key file with a fresh key and callback secret; False if it exists (another process made it)."""
    gateway_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()  # Standard Webhooks form
    draft = _new_file(path, _encode(KeyFileContents(KeyRing(SigningKey(new_secret(), now)), gateway_secret)))
    try:
        os.link(draft, path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise KeyFileError(f"cannot create the key file {path}: {exc.strerror}") from None
    finally:
        draft.unlink()
    _sync_folder(path)
    return True


@dataclass(frozen=True, slots=True)
class Rotation:
    before: KeyRing | None  # None: the file did not exist and was created
    after: KeyRing


def rotate(path: Path, now: datetime, keep_for: timedelta, *, drop_previous: bool = False) -> Rotation:
    """A new current key; the old one is retired, and keys retired ``keep_for`` ago or longer are dropped.
    ``drop_previous`` drops every earlier key at once (for a key that leaked)."""
    if create(path, now):
        return Rotation(None, read(path).ring)
    with _exclusive(path):
        contents = read(path)
        ring = contents.ring.rotated(SigningKey(new_secret(), now), now, keep_for)
        after = KeyFileContents(ring.without_previous() if drop_previous else ring, contents.test_gateway_secret)
        os.replace(_new_file(path, _encode(after)), path)
    _sync_folder(path)
    return Rotation(contents.ring, after.ring)


class KeyFile:
    """A key source that reads the file again when it changes, so a rotation by another process is seen
    by the next token issued or checked, without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._contents, stamp = _read(path)
        self._stamp: tuple[int, ...] | None = stamp

    @property
    def test_gateway_secret(self) -> str:
        return self._contents.test_gateway_secret

    def ring(self) -> KeyRing:
        try:
            stamp = _stamp(os.stat(self.path))
        except OSError as exc:
            return self._keep(None, f"it cannot be found: {exc.strerror}")
        if stamp != self._stamp:
            try:
                self._contents, self._stamp = _read(self.path)
            except KeyFileError as exc:
                return self._keep(stamp, str(exc))
        return self._contents.ring

    def _keep(self, stamp: tuple[int, ...] | None, reason: str) -> KeyRing:
        # A running service keeps the keys it has rather than refusing every token; it says so once per change.
        if stamp != self._stamp:
            log.warning("key file unusable, keeping the keys already loaded", path=str(self.path), reason=reason)
            self._stamp = stamp
        return self._contents.ring


def _read(path: Path) -> tuple[KeyFileContents, tuple[int, ...]]:
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            _ensure_private(path, status)
            data = file.read()
    except FileNotFoundError:
        raise KeyFileError(
            f"the key file {path} does not exist: create it with `orderline signing-keys rotate`"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror}") from None
    return _decode(path, data), _stamp(status)


def _ensure_private(path: Path, status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise KeyFileError(f"the key file {path} is not a regular file")
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} is open to other users (mode {mode:04o}); it must be 0600: chmod 600 {path}"
        )


def _stamp(status: os.stat_result) -> tuple[int, ...]:
    # ctime changes on every write, rename and chmod, so any change to the file changes the stamp.
    return (status.st_ino, status.st_ctime_ns, status.st_mtime_ns, status.st_size)


def _decode(path: Path, data: bytes) -> KeyFileContents:
    try:
        stored = msgspec.json.decode(data, type=_Stored)
    except msgspec.DecodeError as exc:
        raise KeyFileError(f"{path} is not an orderline key file: {exc}") from None
    current = [key for key in stored.signing_keys if key.retired_at is None]
    if len(current) != 1:
        raise KeyFileError(f"{path} must hold one current signing key (without retired_at), not {len(current)}")
    if any(len(key.secret.encode()) < MIN_SECRET_BYTES for key in stored.signing_keys):
        raise KeyFileError(f"{path} holds a signing key shorter than {MIN_SECRET_BYTES} bytes")
    try:
        if len(webhook_secret_bytes(stored.test_gateway_secret)) < MIN_SECRET_BYTES:
            raise KeyFileError(f"{path}: test_gateway_secret is shorter than {MIN_SECRET_BYTES} bytes")
    except SettingsError:
        raise KeyFileError(f"{path}: test_gateway_secret is not whsec_ followed by base64") from None
    retired = sorted((key for key in stored.signing_keys if key.retired_at), key=_retired_at, reverse=True)
    ring = KeyRing(_key(current[0]), tuple(_key(key) for key in retired))
    return KeyFileContents(ring, stored.test_gateway_secret)


def _key(stored: _StoredKey) -> SigningKey:
    return SigningKey(stored.secret, stored.created_at, stored.retired_at)


def _retired_at(key: _StoredKey) -> datetime:
    assert key.retired_at is not None
    return key.retired_at


def _encode(contents: KeyFileContents) -> bytes:
    keys = [
        _StoredKey(key.secret, key.created_at, key.retired_at)
        for key in contents.ring.keys
        if key.created_at is not None
    ]
    return msgspec.json.format(msgspec.json.encode(_Stored(1, keys, contents.test_gateway_secret)), indent=2) + b"\n"


def _new_file(beside: Path, data: bytes) -> Path:
    """A new file, mode 0600 whatever the umask, holding ``data`` on disk, in the folder of ``beside``."""
    draft = beside.with_name(f".{beside.name}.{secrets.token_hex(8)}.new")
    try:
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot create the key file {beside}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        draft.unlink()
        raise
    return draft


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold the file's lock; a rotation that replaced the file while we waited sends us to the new one."""
    while True:
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise KeyFileError(f"cannot open the key file {path}: {exc.strerror}") from None
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(descriptor)
    try:
        yield
    finally:
        os.close(descriptor)


def _sync_folder(path: Path) -> None:
    # The new name is durable only once its folder is (rename and link change the folder, not the file).
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
