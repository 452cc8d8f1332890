import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_tutorial import data
from gan_tutorial.data import (DatasetNotFoundError, data_root, first_images, limit_dataset,
                               load_image_folder,
                               load_celeba, load_mnist, load_pokemon, make_loader)


def test_data_root_argument_beats_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_TUTORIAL_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("GAN_TUTORIAL_DATA")
    assert data_root() == Path(data.__file__).resolve().parent.parent / "data"


def test_mnist_splits_and_scaling(mnist_data):
    train = load_mnist(mnist_data, split="train", download=False)
    assert len(train) == 60_000
    assert train[0][0].shape == (1, 28, 28)
    assert train[0][0].min() == -1 and train[0][0].max() == 1
    assert len(load_mnist(mnist_data, split="test", download=False)) == 10_000
    both = load_mnist(mnist_data, split="all", image_size=64, download=False)
    assert len(both) == 70_000
    image, label = both[0]
    assert image.shape == (1, 64, 64)
    assert image.min() == -1 and 0.9 < image.max() <= 1
    assert isinstance(label, int)


def test_mnist_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_mnist(split="validation")


def test_missing_mnist_says_where_to_put_it(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"MNIST was not found in .*MNIST.raw"):
        load_mnist(tmp_path, download=False)


def test_limit_dataset_spreads_over_the_whole_dataset():
    dataset = list(range(100))
    subset = limit_dataset(dataset, 5)
    assert [subset[i] for i in range(5)] == [0, 24, 49, 74, 99]
    assert limit_dataset(dataset, None) is dataset
    assert limit_dataset(dataset, 1000) is dataset
    with pytest.raises(ValueError):
        limit_dataset(dataset, 0)


def test_celeba_from_local_folder(celeba_data):
    faces = load_celeba(celeba_data, image_size=64)
    assert len(faces) == 6000
    image, _ = faces[0]
    assert image.shape == (3, 64, 64)
    assert -1 <= image.min() < image.max() <= 1
    assert len(load_celeba(celeba_data, image_size=32, limit=10)) == 10
    assert load_celeba(celeba_data, image_size=32, limit=1)[0][0].shape == (3, 32, 32)


def test_missing_celeba_explains_where_to_get_and_put_it(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_celeba(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "celeba" / "img_align_celeba") in message
    assert data.CELEBA_PAGE in message
    assert "GAN_TUTORIAL_DATA" in message


def test_failed_celeba_download_still_explains(monkeypatch, tmp_path):
    def offline(root):
        raise OSError("no route to host")

    monkeypatch.setattr(data, "download_celeba", offline)
    with pytest.raises(DatasetNotFoundError, match="(?s)img_align_celeba.*no route to host"):
        load_celeba(tmp_path, download=True)


def test_pokemon_from_local_folder(pokemon_data):
    sprites = load_pokemon(pokemon_data, download=False)
    assert len(sprites) == 1639
    assert len(sprites.classes) == 100
    assert sprites[0][0].shape == (3, 64, 64)


def test_missing_pokemon_without_download(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="pokemon"):
        load_pokemon(tmp_path, download=False)


def _fake_pokemon_zip(path: Path) -> None:
    image = tmp = path.parent / "sprite.png"
    Image.new("RGB", (96, 96), "white").save(tmp)
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(image, "pokemon/pikachu/0.png")
        archive.write(image, "pokemon/eevee/0.png")


def test_pokemon_download_is_checksummed_and_unpacked(monkeypatch, tmp_path):
    def fake_download(url, root, filename):
        assert url == data.POKEMON_URL
        _fake_pokemon_zip(Path(root) / filename)

    monkeypatch.setattr(data, "download_url", fake_download)
    root = tmp_path / "good"
    root.mkdir()
    _fake_pokemon_zip(tmp_path / "reference.zip")
    monkeypatch.setattr(data, "POKEMON_ZIP_SHA1", data.sha1_of(tmp_path / "reference.zip"))
    sprites = load_pokemon(root, image_size=32)
    assert sprites.classes == ["eevee", "pikachu"]
    assert sprites[0][0].shape == (3, 32, 32)


def test_pokemon_download_with_bad_checksum_is_rejected(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "download_url",
                        lambda url, root, filename: _fake_pokemon_zip(Path(root) / filename))
    with pytest.raises(DatasetNotFoundError, match="SHA-1"):
        load_pokemon(tmp_path)
    assert not (tmp_path / "pokemon.zip").exists()
    assert not (tmp_path / "pokemon").exists()


def test_make_loader_batches_and_refuses_impossible_batch():
    dataset = torch.utils.data.TensorDataset(torch.zeros(10, 1, 4, 4))
    loader = make_loader(dataset, batch_size=4, num_workers=0)
    assert [b[0].shape[0] for b in loader] == [4, 4]  # drop_last keeps batches equal
    with pytest.raises(ValueError, match="smaller batch"):
        make_loader(dataset, batch_size=11)


def test_first_images_stacks_a_batch():
    dataset = torch.utils.data.TensorDataset(torch.arange(5.0).view(5, 1, 1, 1), torch.zeros(5))
    batch = first_images(dataset, 3)
    assert batch.shape == (3, 1, 1, 1)
    assert batch.flatten().tolist() == [0.0, 1.0, 2.0]


def test_load_image_folder(tmp_path):
    (tmp_path / "mine" / "photos").mkdir(parents=True)
    (tmp_path / "mine" / "empty").mkdir()
    for i in range(3):
        Image.new("RGB", (50, 40), (255, 0, 0)).save(tmp_path / "mine" / "photos" / f"{i}.jpg")
    images = load_image_folder(tmp_path / "mine", image_size=32, limit=2)
    assert len(images) == 2
    image = images[0][0]
    assert image.shape == (3, 32, 32) and image[0].mean() > 0.9 and image[1].mean() < -0.9


def test_load_image_folder_explains_layout(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "flat.png")
    with pytest.raises(DatasetNotFoundError, match="sub-folder"):
        load_image_folder(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="No folder"):
        load_image_folder(tmp_path / "missing")


@pytest.mark.parametrize("size", [28, 64])
def test_in_memory_mnist_matches_the_torchvision_pipeline(mnist_data, size):
    fast = load_mnist(mnist_data, image_size=size, split="test", download=False)
    slow = load_mnist(mnist_data, image_size=size, split="test", download=False, in_memory=False)
    assert len(fast) == len(slow) == 10_000
    for i in (0, 1234, 9999):
        (a, label_a), (b, label_b) = fast[i], slow[i]
        assert a.shape == b.shape == (1, size, size) and a.dtype == torch.float32
        assert label_a == label_b
        assert (a - b).abs().max() < 1e-6  # the uint8 resize gives PIL's very pixels


def test_in_memory_datasets_load_without_workers(mnist_data, pokemon_data):
    digits = load_mnist(mnist_data, split="test", download=False, limit=100)
    assert make_loader(digits, 10).num_workers == 0
    assert not make_loader(digits, 10, device="cpu").pin_memory  # a device name works too
    assert make_loader(digits, 10, device="cuda").pin_memory  # (nothing is loaded here)
    files = load_pokemon(pokemon_data, download=False, limit=100, cache=False)
    assert make_loader(files, 10).num_workers >= 1
    cached = load_pokemon(pokemon_data, download=False, limit=100)
    assert make_loader(cached, 10).num_workers == 0
    with pytest.raises(ValueError, match="uint8"):
        data.InMemoryImages(torch.zeros(2, 1, 4, 4), torch.zeros(2))


def test_limited_in_memory_mnist_keeps_the_same_digits_and_resizes_only_those(mnist_data):
    limited = load_mnist(mnist_data, split="test", image_size=64, limit=50, download=False)
    reference = limit_dataset(load_mnist(mnist_data, split="test", image_size=64, download=False), 50)
    assert len(limited) == 50 and limited.images.shape == (50, 1, 64, 64)  # only 50 resized
    for i in (0, 17, 49):
        assert torch.equal(limited[i][0], reference[i][0]) and limited[i][1] == reference[i][1]
