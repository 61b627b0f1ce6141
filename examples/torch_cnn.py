"""A small convolutional network on 8x8 images as a PyTorch module with its own forward (needs torch):
conv 3x3 (padding 1) -> tanh -> 2x2 average pooling -> conv 3x3 (stride 2, padding 1) -> tanh -> dense to 1.

Every layer carries its NTK factor 1/sqrt(fan_in) in ``forward`` (weights N(0, 1), biases 0); the output
layer starts at 0, so F(w0) = 0 exactly and L(w0) = ||y||^2 / 2. The images are 8 random binary (+-1) 8x8
images; the targets are small (1e-4 times the difference of the left and right halves' means): the ball
theorem needs ||y|| small against sqrt(lambda_min) / epsilon (docs/theory.md §2.5). ``from_torch`` reads the
module into a layer graph with torch's own parameters, and its bounds over the ball are the verified
per-layer bounds of docs/rigor.md §2.7 (convolutions G6, pooling G7): the check is ``verified``.

    plproof check examples/torch_cnn.py:problem
    python examples/torch_widths.py   # the smallest certified width beside the empirical GD width
"""

import math

import numpy as np
import torch

from plproof import Problem, from_torch

CHANNELS = 16


def images(n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n random binary 8x8 images (rows of 64 entries +-1) and small targets: 1e-4 (left mean - right mean)."""
    X = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, 8, 8))
    return X.reshape(n, 64), 1e-4 * (X[:, :, :4].mean(axis=(1, 2)) - X[:, :, 4:].mean(axis=(1, 2)))


class SmallCNN(torch.nn.Module):
    """conv -> tanh -> avg pool -> conv (stride 2) -> tanh -> dense, each with its 1/sqrt(fan_in)."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, channels, 3, padding=1)
        self.pool = torch.nn.AvgPool2d(2)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.head = torch.nn.Linear(channels * 2 * 2, 1)
        self.c2, self.c3 = 1 / math.sqrt(9 * channels), 1 / math.sqrt(4 * channels)
        for name, p in self.named_parameters():
            if name.startswith("head"):
                torch.nn.init.zeros_(p)  # F(w0) = 0
            else:
                (torch.nn.init.normal_ if name.endswith("weight") else torch.nn.init.zeros_)(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.tanh(self.conv1(x.view(-1, 1, 8, 8)) / 3))
        h = torch.tanh(self.conv2(h) * self.c2)
        return self.head(h.flatten(1)) * self.c3


def problem_at(channels: int) -> Problem:
    """The example with ``channels`` channels in both convolutions (torch seed 0)."""
    torch.manual_seed(0)
    return Problem(from_torch(SmallCNN(channels).double(), X), y)


X, y = images()
problem = problem_at(CHANNELS)

