"""A small convolutional network on 8x8 images as a PyTorch module with its own forward (needs torch):
conv 3x3 (padding 1) -> tanh -> 2x2 average pooling -> conv 3x3 stride 2 -> softplus -> dense to one output.

The images are 12 smooth blobs (a Gaussian bump at a different place in each), flattened to rows of 64; the
module views them as (1, 8, 8). ``from_torch`` reads it into a layer graph with torch's parameters; the
kernel of the convolutions is formed from per-layer blocks (plproof.models.graph.ops.Affine). Bounds over
a ball are ``sampled`` until the graph's rigorous bounds exist (docs/rigor.md §2.5).

    plproof check examples/torch_cnn.py:problem --rigor sampled
"""

import numpy as np
import torch

from plproof import Problem, from_torch


def blobs(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n 8x8 images of a Gaussian bump (rows of 64) and targets: the bump's signed distance from the diagonal."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(1.5, 5.5, size=(n, 2))
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"), axis=-1)
    images = np.exp(-((grid[None] - centres[:, None, None]) ** 2).sum(-1) / 3.0)
    return images.reshape(n, 64), (centres[:, 0] - centres[:, 1]) / 4


class SmallCNN(torch.nn.Module):
    """conv -> tanh -> avg pool -> conv (stride 2) -> softplus -> dense."""

    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, channels, 3, padding=1)
        self.pool = torch.nn.AvgPool2d(2)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.head = torch.nn.Linear(channels * 2 * 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.tanh(self.conv1(x.view(-1, 1, 8, 8))))
        h = torch.nn.functional.softplus(self.conv2(h))
        return self.head(h.flatten(1))


X, y = blobs()
torch.manual_seed(0)
net = SmallCNN().double()
model = from_torch(net, X)
problem = Problem(model, y)
