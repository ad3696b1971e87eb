"""Model checkpoints in shared storage: two hosts (two PORTAL_MODEL_DIR caches) share one storage; the host
that did not train fetches the checkpoints and predicts the same, and a corrupt or partial copy is never used."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage

from discovery import ml_adapter
from discovery.artefacts import ArtefactError, checkpoint_local, checkpoint_publish, model_storage
from discovery.ml_adapter import active_ensemble, catalogue_samples, models_train
from hull.services.ingest import ingest_file


@pytest.fixture
def shared_store(settings, tmp_path) -> Path:
    """A storage of its own for the models (the hosts' caches are set by each test)."""
    store = tmp_path / "store"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(store)},
        },
    }
    settings.PORTAL_MODEL_DIR = tmp_path / "host-a"
    ml_adapter._loaded.clear()
    yield store
    ml_adapter._loaded.clear()


def host(settings, path: Path) -> None:
    """Act as another host: its own empty cache, nothing loaded in this process."""
    settings.PORTAL_MODEL_DIR = path
    ml_adapter._loaded.clear()


def members(tmp_path: Path, contents: list[bytes]) -> Path:
    folder = tmp_path / "trained"
    folder.mkdir()
    for i, content in enumerate(contents):
        (folder / f"member_{i}.msgpack").write_bytes(content)
    return folder


@pytest.mark.django_db
def test_a_host_with_an_empty_cache_fetches_the_model_and_predicts_the_same(
    shared_store, li_o_file, settings, tmp_path
):
    ingest_file(path=li_o_file)
    report = models_train(config_name="tiny", n_models=2, epochs=2, name="tiny-shared")
    key = report.model.checkpoint_path
    # the registry names a version in the storage, not a folder of the host that trained
    assert not Path(key).is_absolute() and key.startswith("tiny-shared/")
    stored = sorted(p.name for p in (shared_store / key).iterdir())
    assert stored == ["manifest.json", "member_0.msgpack", "member_1.msgpack"]
    structures = [s.structure for s in catalogue_samples()[:6]]
    _, on_a = active_ensemble("structural")
    predicted_on_a = on_a.predict_structures(structures).median

    host(settings, tmp_path / "host-b")
    assert not (tmp_path / "host-b").exists()
    model, on_b = active_ensemble("structural")
    assert model.pk == report.model.pk and len(on_b.members) == 2
    np.testing.assert_array_equal(on_b.predict_structures(structures).median, predicted_on_a)
    cached = tmp_path / "host-b" / "cache" / key
    for name in ("member_0.msgpack", "member_1.msgpack"):
        assert (cached / name).read_bytes() == (shared_store / key / name).read_bytes()
    # nothing of the download is left beside the cached copy
    assert sorted(p.name for p in cached.parent.iterdir()) == [cached.name]


def test_publishing_uploads_the_members_then_a_manifest_naming_their_hashes(shared_store, settings, tmp_path):
    contents = [b"first member", b"second member"]
    key = checkpoint_publish(directory=members(tmp_path, contents), name="m/../x y")
    name, version = key.split("/")
    assert name == "m-..-x-y" and ".." not in Path(key).parts
    body = (shared_store / key / "manifest.json").read_bytes()
    assert hashlib.sha256(body).hexdigest() == version
    files = json.loads(body)["files"]
    for i, content in enumerate(contents):
        assert files[f"member_{i}.msgpack"] == {
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    # the trained folder became this host's cached copy
    assert not (tmp_path / "trained").exists()
    assert checkpoint_local(key) == Path(settings.PORTAL_MODEL_DIR) / "cache" / key


def test_a_corrupt_or_partial_copy_in_the_storage_is_never_cached(shared_store, settings, tmp_path):
    key = checkpoint_publish(directory=members(tmp_path, [b"a" * 5000, b"b" * 5000]), name="m")
    good = (shared_store / key / "member_1.msgpack").read_bytes()
    host(settings, tmp_path / "host-b")
    for damaged in (good[:2500], good[:-1] + b"c"):  # partial upload, flipped byte
        (shared_store / key / "member_1.msgpack").write_bytes(damaged)
        with pytest.raises(ArtefactError, match="member_1.msgpack is missing or does not match"):
            checkpoint_local(key)
        assert list((tmp_path / "host-b" / "cache" / "m").iterdir()) == []
    (shared_store / key / "member_1.msgpack").write_bytes(good)
    assert (checkpoint_local(key) / "member_1.msgpack").read_bytes() == good


def test_an_interrupted_download_leaves_nothing_and_the_next_one_succeeds(
    shared_store, settings, tmp_path, monkeypatch
):
    key = checkpoint_publish(directory=members(tmp_path, [b"a" * 5000, b"b" * 5000]), name="m")
    host(settings, tmp_path / "host-b")
    original = FileSystemStorage.open

    def dies_on_the_second_member(self, name, mode="rb"):
        if name.endswith("member_1.msgpack"):
            raise ConnectionResetError("connection lost")
        return original(self, name, mode)

    monkeypatch.setattr(FileSystemStorage, "open", dies_on_the_second_member)
    with pytest.raises(ConnectionResetError):
        checkpoint_local(key)
    assert list((tmp_path / "host-b" / "cache" / "m").iterdir()) == []
    monkeypatch.setattr(FileSystemStorage, "open", original)
    assert sorted(p.name for p in checkpoint_local(key).iterdir()) == [
        "manifest.json",
        "member_0.msgpack",
        "member_1.msgpack",
    ]


def test_a_damaged_cached_copy_is_fetched_again(shared_store, settings, tmp_path):
    key = checkpoint_publish(directory=members(tmp_path, [b"a" * 5000]), name="m")
    cached = checkpoint_local(key)
    (cached / "member_0.msgpack").write_bytes(b"a" * 4999)
    assert (checkpoint_local(key) / "member_0.msgpack").read_bytes() == b"a" * 5000


def test_a_version_the_storage_lacks_is_refused_with_the_setting_to_check(shared_store, tmp_path):
    key = checkpoint_publish(directory=members(tmp_path, [b"a"]), name="m")
    other = f"m/{hashlib.sha256(b'another version').hexdigest()}"
    with pytest.raises(
        ArtefactError, match="not in the model storage: do all hosts share PORTAL_MODEL_STORAGE"
    ):
        checkpoint_local(other)
    # a manifest whose hash is not the version the registry names is not trusted
    with (shared_store / key / "manifest.json").open("rb") as manifest:
        model_storage().save(f"{other}/manifest.json", File(manifest))
    with pytest.raises(ArtefactError, match="does not match the version the registry names"):
        checkpoint_local(other)
