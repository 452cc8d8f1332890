"""Images held in memory as one uint8 tensor, served a whole batch at a time.

``InMemoryImages`` answers ``dataset[i]`` like any torchvision dataset, and also
``__getitems__``: the hook through which a ``DataLoader`` asks for all the indices of a
batch at once. It returns an ``ImageBatch`` that ``collate_batch`` turns into the batch
tensors with one tensor index and one division, instead of one ``__getitem__`` per image
followed by ``torch.stack``. The sampler, and therefore the shuffling, is the DataLoader's
own, so a seed gives the same batches either way.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate


def to_signed_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels to floats in [-1, 1]: the numbers of ``ToTensor()`` + ``Normalize(0.5, 0.5)``."""
    return images.float() / 127.5 - 1


class InMemoryImages(Dataset):
    """Images held as one uint8 tensor (N, C, H, W), scaled to [-1, 1] on access; labels alongside.

    For small datasets such as MNIST this removes the per-image PIL work (and the worker
    processes) that otherwise limit training speed: a batch is one index and a division.
    ``classes`` (optional) keeps the class names of an image folder, as ImageFolder has them.
    """

    in_memory = True

    def __init__(self, images: torch.Tensor, labels: torch.Tensor,
                 classes: list[str] | None = None) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("images must be a uint8 tensor of shape (N, C, H, W)")
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self._images, self.labels = images, labels.long()
        self.classes = classes

    @property
    def images(self) -> torch.Tensor:
        """The uint8 pixels, (N, C, H, W)."""
        return self._images

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_signed_unit(self.images[index]), int(self.labels[index])

    def __getitems__(self, indices: Sequence[int]) -> ImageBatch:
        """All images of a batch in one go (called by DataLoader; see the module docstring)."""
        return ImageBatch(self, torch.as_tensor(indices, dtype=torch.long))


class ImageBatch(Sequence):
    """The items of one batch, not yet converted.

    ``collate_batch`` converts it in one step. Any other collate function sees a plain
    sequence of ``(image, label)`` pairs, exactly what ``dataset[i]`` returns.
    """

    def __init__(self, dataset: InMemoryImages, indices: torch.Tensor) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.dataset[int(self.indices[i])]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images in [-1, 1], int64 labels) for the whole batch: one gather, one division.

        On the CPU this runs in NumPy, on one thread: the same float32 numbers as
        ``to_signed_unit``, but free of the thread synchronisation that makes such a small
        PyTorch operation up to 30x slower when the cores are busy (measured on 2 cores).
        """
        images, labels = self.dataset.images, self.dataset.labels[self.indices]
        if images.device.type != "cpu":
            return to_signed_unit(images[self.indices.to(images.device)]), labels
        batch = images.numpy()[self.indices.numpy()].astype(np.float32)
        batch /= np.float32(127.5)
        batch -= np.float32(1)
        return torch.from_numpy(batch), labels


def collate_batch(batch):
    """DataLoader ``collate_fn``: an ``ImageBatch`` in one step, anything else as PyTorch does."""
    if isinstance(batch, ImageBatch):
        return list(batch.tensors())
    return default_collate(batch)
