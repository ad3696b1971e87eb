"""Model checkpoints in shared storage, with ``PORTAL_MODEL_DIR`` as each host's local cache of them.

The storage is Django's storage alias ``models`` (``settings.STORAGES``, set from ``PORTAL_MODEL_STORAGE``): a
folder by default, S3-compatible object storage in production. A trained ensemble is published there as
``<name>/<version>/``: its member files, then ``manifest.json`` (each file's size and SHA-256). The version is
the manifest's own SHA-256, and ``<name>/<version>`` is what the registry row keeps (``checkpoint_path``), so
a row names one content: a cached copy of another version is never used, and a download whose files do not
match the manifest is thrown away before it is renamed into the cache.

Cache layout under ``PORTAL_MODEL_DIR``: ``training/<name>/`` (a training in progress: its members are
checkpointed there and resumed from there) and ``cache/<name>/<version>/`` (published, verified copies)."""

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, storages

from hull.errors import CatalogueError

MANIFEST = "manifest.json"
ALIAS = "models"
CHUNK = 1 << 20
UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")


class ArtefactError(CatalogueError):
    """A published checkpoint is missing from the storage or does not match its manifest."""


def model_storage() -> Storage:
    return storages[ALIAS]


def training_dir(name: str) -> Path:
    """Where a training of ``name`` checkpoints its members on this host before they are published."""
    return Path(settings.PORTAL_MODEL_DIR) / "training" / _safe(name)


def checkpoint_publish(*, directory: Path, name: str) -> str:
    """Upload the member checkpoints in ``directory`` to the model storage and move ``directory`` into this
    host's cache; returns the key the registry keeps (``<name>/<version>``). The manifest goes last, so a key
    whose manifest can be read was uploaded whole."""
    directory = Path(directory)
    files = sorted(p for p in directory.glob("member_*.msgpack") if p.is_file())
    if not files:
        raise ArtefactError(f"no member checkpoints in {directory} to publish")
    manifest = {p.name: {"size": p.stat().st_size, "sha256": _sha256_file(p)} for p in files}
    body = json.dumps({"name": name, "files": manifest}, sort_keys=True, indent=1).encode()
    key = f"{_safe(name)}/{hashlib.sha256(body).hexdigest()}"
    storage = model_storage()
    for path in files:
        with path.open("rb") as handle:
            _put(storage, f"{key}/{path.name}", File(handle))
    _put(storage, f"{key}/{MANIFEST}", ContentFile(body))
    (directory / MANIFEST).write_bytes(body)
    for stray in directory.iterdir():
        if stray.name != MANIFEST and stray.name not in manifest:
            _remove(stray)
    _install(directory, _cache_path(key))
    return key


def checkpoint_local(key: str) -> Path:
    """The local directory holding the published checkpoint ``key``: this host's verified cached copy, or
    one downloaded from the model storage into a temporary folder, checked against the manifest and renamed
    into the cache. A registry row from before shared storage (an absolute path) is used as it is."""
    if Path(key).is_absolute():
        return Path(key)
    target = _cache_path(key)
    if target.is_dir():
        try:
            _verify(target, key)
            return target
        except ArtefactError:
            _remove(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        _download(key, scratch)
        _install(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _download(key: str, folder: Path) -> None:
    storage = model_storage()
    body = _read(storage, f"{key}/{MANIFEST}", key)
    (folder / MANIFEST).write_bytes(body)
    files = _manifest_files(body, key)
    for name in files:
        with storage.open(f"{key}/{name}", "rb") as source, (folder / name).open("wb") as out:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                out.write(chunk)
    _verify(folder, key)


def _verify(folder: Path, key: str) -> None:
    """Raise ArtefactError unless ``folder`` holds exactly what the manifest of ``key`` lists."""
    try:
        body = (folder / MANIFEST).read_bytes()
    except OSError as exc:
        raise ArtefactError(f"checkpoint {key}: no manifest") from exc
    for name, expected in _manifest_files(body, key).items():
        path = folder / name
        if (
            not path.is_file()
            or path.stat().st_size != expected["size"]
            or _sha256_file(path) != expected["sha256"]
        ):
            raise ArtefactError(f"checkpoint {key}: {name} is missing or does not match its manifest")


def _manifest_files(body: bytes, key: str) -> dict:
    if hashlib.sha256(body).hexdigest() != key.rsplit("/", 1)[-1]:
        raise ArtefactError(f"checkpoint {key}: its manifest does not match the version the registry names")
    files = json.loads(body)["files"]
    if any(Path(name).name != name or not name.startswith("member_") for name in files):
        raise ArtefactError(f"checkpoint {key}: bad file names in its manifest")
    return files


def _read(storage: Storage, path: str, key: str) -> bytes:
    try:
        with storage.open(path, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise ArtefactError(
            f"checkpoint {key} is not in the model storage: do all hosts share PORTAL_MODEL_STORAGE?"
        ) from exc


def _put(storage: Storage, path: str, content: File) -> None:
    if storage.exists(path):
        storage.delete(path)
    saved = storage.save(path, content)
    if saved != path:
        raise ArtefactError(f"the model storage saved {path} as {saved}")


def _install(folder: Path, target: Path) -> None:
    """Rename ``folder`` to ``target`` (same file system: atomic); where another process got there first,
    its copy is kept and ``folder`` removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(folder, target)
    except OSError:
        if not target.is_dir():
            raise
        _remove(folder)


def _remove(path: Path) -> None:
    """Move ``path`` aside, then delete it, so no reader ever sees half of it under its name."""
    if not path.exists():
        return
    if path.is_dir():
        aside = Path(tempfile.mkdtemp(prefix=".stale-", dir=path.parent))
        os.rename(path, aside / path.name)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _cache_path(key: str) -> Path:
    return Path(settings.PORTAL_MODEL_DIR) / "cache" / key


def _safe(name: str) -> str:
    return UNSAFE.sub("-", name).lstrip(".") or "model"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
