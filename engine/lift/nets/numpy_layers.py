"""The layers of Monocap's networks in numpy, for inference without a training framework.

Each function takes the weights as a torch `state_dict` names them (a dict of float32 arrays with
the layer's prefix) and follows torch's definition in eval mode, NCHW for images, so an exported
network (engine.lift.nets.exported) gives torch's output to float32 rounding.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import erf

Weights = dict[str, np.ndarray]

_BLAS = None  # threadpoolctl's view of the BLAS libraries loaded, made at the first use


@contextmanager
def one_blas_thread():
    """numpy's BLAS on one thread inside the block. For small products (the lifter: a frame, or a
    clip of a few hundred) its worker threads cost far more than they save when the cores are
    busy, as they are beside the detector: a live frame of the lifter took 80 ms with them and
    7 ms without on two busy cores (torch, limited to one thread as before, 10 to 14 ms)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=1, user_api="blas"):
        yield


def linear(x: np.ndarray, w: Weights, name: str) -> np.ndarray:
    """(..., in) -> (..., out); torch.nn.Linear (weight (out, in), bias (out,))."""
    y = x @ w[f"{name}.weight"].T
    bias = w.get(f"{name}.bias")
    return y if bias is None else y + bias


def layer_norm(x: np.ndarray, w: Weights, name: str, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w[f"{name}.weight"] + w[f"{name}.bias"]


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU (torch's default), x * Phi(x)."""
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype, copy=False)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, dtype=x.dtype)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


def batch_norm(x: np.ndarray, w: Weights, name: str, eps: float = 1e-5) -> np.ndarray:
    """(B, C, H, W) with the layer's running statistics (eval mode)."""
    scale = w[f"{name}.weight"] / np.sqrt(w[f"{name}.running_var"] + eps)
    shift = w[f"{name}.bias"] - w[f"{name}.running_mean"] * scale
    return x * scale[:, None, None] + shift[:, None, None]


def conv2d(x: np.ndarray, w: Weights, name: str, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """(B, C, H, W) -> (B, O, H', W'); torch.nn.Conv2d (weight (O, C, kh, kw), optional bias)."""
    kernel = w[f"{name}.weight"]
    out_ch, _, kh, kw = kernel.shape
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    if kh == kw == 1:
        cols = x[:, :, ::stride, ::stride]
        y = np.einsum("oc,bchw->bohw", kernel[:, :, 0, 0], cols, optimize=True)
    else:
        span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
        win = sliding_window_view(x, (span_h, span_w), axis=(2, 3))[:, :, ::stride, ::stride, ::dilation, ::dilation]
        b, c, ho, wo = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(b * ho * wo, c * kh * kw)
        y = (cols @ kernel.reshape(out_ch, -1).T).reshape(b, ho, wo, out_ch).transpose(0, 3, 1, 2)
    bias = w.get(f"{name}.bias")
    return np.ascontiguousarray(y if bias is None else y + bias[:, None, None])


def conv_transpose2d(x: np.ndarray, w: Weights, name: str, stride: int, padding: int) -> np.ndarray:
    """(B, C, H, W) -> (B, O, (H-1)*stride - 2*padding + k, ...); torch.nn.ConvTranspose2d
    (weight (C, O, kh, kw), optional bias)."""
    kernel = w[f"{name}.weight"]
    _, out_ch, kh, kw = kernel.shape
    b, _, h, wd = x.shape
    parts = np.einsum("bchw,cokl->boklhw", x, kernel, optimize=True)
    full = np.zeros((b, out_ch, (h - 1) * stride + kh, (wd - 1) * stride + kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            full[:, :, i:i + stride * h:stride, j:j + stride * wd:stride] += parts[:, :, i, j]
    y = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    bias = w.get(f"{name}.bias")
    return np.ascontiguousarray(y if bias is None else y + bias[:, None, None])


def max_pool2d(x: np.ndarray, kernel: int, stride: int, padding: int) -> np.ndarray:
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    return sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(-1, -2))


def adaptive_avg_pool2d(x: np.ndarray, size: int) -> np.ndarray:
    """(B, C, H, W) -> (B, C, size, size), torch's cells: [floor(i*H/size), ceil((i+1)*H/size))."""
    h, wd = x.shape[2:]
    if h % size == 0 and wd % size == 0:
        return x.reshape(*x.shape[:2], size, h // size, size, wd // size).mean(axis=(3, 5))
    out = np.empty((*x.shape[:2], size, size), dtype=x.dtype)
    for i in range(size):
        r0, r1 = (i * h) // size, -((-(i + 1) * h) // size)
        for j in range(size):
            c0, c1 = (j * wd) // size, -((-(j + 1) * wd) // size)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return out
