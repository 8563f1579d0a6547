"""`synthgen gan eval`'s image metrics against independent computations: known values (identical
images, a known noise level), a second, straightforward SSIM (explicit windows, no filtering),
the eye band and the speckle score on constructed images. numpy only (no torch)."""

import math

import numpy as np
import pytest

from synthgen.gan import metrics as M


def _imgs(n=3, seed=0, size=32):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_identical_images_give_infinite_psnr_and_ssim_one():
    x = _imgs()
    assert M.psnr(x, x) == math.inf and np.all(M.psnr_each(x, x) == math.inf)
    assert M.ssim(x, x) == pytest.approx(1.0, abs=1e-12)
    band = np.zeros(x.shape[:3], bool)
    band[:, 10:20, 5:25] = True
    assert M.psnr(x, x, band) == math.inf and M.ssim(x, x, band) == pytest.approx(1.0, abs=1e-12)


def test_psnr_of_a_known_error():
    # every pixel off by exactly 5 grey levels: MSE 25 -> 10 log10(255^2 / 25) = 34.15 dB
    x = np.full((2, 16, 16, 3), 100, np.uint8)
    assert M.psnr(x, x + 5) == pytest.approx(10 * math.log10(255**2 / 25), abs=1e-9)
    assert M.psnr(x, x + 5) == pytest.approx(34.1514, abs=1e-4)
    # Gaussian noise of sigma 10 on a mid-grey image (no clipping): PSNR ~ 10 log10(255^2 / 100) = 28.13 dB
    rng = np.random.default_rng(1)
    y = np.full((4, 64, 64, 3), 128.0)
    noisy = y + rng.normal(0, 10, y.shape)
    assert M.psnr(noisy, y) == pytest.approx(28.13, abs=0.1)


def test_psnr_is_a_mean_of_per_image_figures_and_a_mask_selects_pixels():
    x = np.zeros((2, 8, 8, 3))
    y = x.copy()
    y[0] += 1.0  # MSE 1
    y[1] += 10.0  # MSE 100
    want = np.array([10 * math.log10(255**2 / 1), 10 * math.log10(255**2 / 100)])
    assert np.allclose(M.psnr_each(x, y), want) and M.psnr(x, y) == pytest.approx(want.mean())
    z = x.copy()
    z[:, :4] += 20.0  # errors only in the top half
    top = np.zeros((2, 8, 8), bool)
    top[:, :4] = True
    assert M.psnr(x, z, ~top) == math.inf
    assert M.psnr(x, z, top) == pytest.approx(10 * math.log10(255**2 / 400))


def _ssim_reference(x, y):
    """SSIM per image, written out window by window: Gaussian weights (11 x 11, sigma 1.5,
    normalised), weighted means, variances and covariance, the Wang et al. formula, mean over
    every window position that fits and every channel."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    r = np.arange(-5, 6)
    g1 = np.exp(-(r**2) / (2 * 1.5**2))
    w = np.outer(g1, g1)
    w /= w.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    n, h, wd, ch = x.shape
    out = np.zeros(n)
    for i in range(n):
        vals = []
        for k in range(ch):
            for yy in range(h - 10):
                for xx in range(wd - 10):
                    a = x[i, yy:yy + 11, xx:xx + 11, k]
                    b = y[i, yy:yy + 11, xx:xx + 11, k]
                    ma, mb = (w * a).sum(), (w * b).sum()
                    va, vb = (w * (a - ma) ** 2).sum(), (w * (b - mb) ** 2).sum()
                    cov = (w * (a - ma) * (b - mb)).sum()
                    vals.append((2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
        out[i] = np.mean(vals)
    return out


def test_ssim_matches_a_window_by_window_implementation():
    rng = np.random.default_rng(2)
    base = rng.integers(0, 256, (2, 24, 20, 3)).astype(np.uint8)
    other = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
    blurred = np.stack([np.stack([np.convolve(row, np.ones(3) / 3, "same") for row in img.reshape(-1, 20 * 3)])
                        .reshape(img.shape) for img in base.astype(float)]).astype(np.uint8)
    for y in (other, blurred, 255 - base):
        got = M.ssim_each(base, y)
        want = _ssim_reference(base, y)
        assert np.allclose(got, want, atol=1e-9), (got, want)
    assert M.ssim(base, other) < 0.99 and M.ssim(base, 255 - base) < 0.2


def test_ssim_of_flat_images_is_the_luminance_term():
    # no variance: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) exactly
    a, b, c1 = 100.0, 140.0, (0.01 * 255) ** 2
    x, y = np.full((1, 16, 16, 3), a), np.full((1, 16, 16, 3), b)
    assert M.ssim(x, y) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-12)


def test_ssim_inside_a_mask_is_the_mean_of_the_map_there():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (1, 32, 32, 3)).astype(np.uint8)
    y = x.copy()
    y[:, 14:18, 14:18] = 0  # damage a small square in the middle only
    m = M.ssim_map(x, y)
    assert np.isnan(m[0, :5]).all() and np.isnan(m[0, :, -5:]).all() and not np.isnan(m[0, 5:27, 5:27]).any()
    far = np.zeros((1, 32, 32), bool)
    far[:, 5:8, 5:8] = True  # windows there never reach the damaged square
    near = np.zeros((1, 32, 32), bool)
    near[:, 14:18, 14:18] = True
    assert M.ssim(x, y, far) == pytest.approx(1.0, abs=1e-12)
    assert M.ssim(x, y, near) == pytest.approx(np.nanmean(m[0, 14:18, 14:18]))
    assert M.ssim(x, y, near) < M.ssim(x, y) < 1.0


def test_eye_band_is_the_grown_bounding_box_of_the_change():
    without = np.full((2, 20, 30, 3), 100, np.uint8)
    with_ = without.copy()
    with_[0, 8, 5:25] = 20  # a frame line
    with_[0, 10, 12] = 105  # a change under the threshold: not part of the attribute
    band = M.eye_band(with_, without, margin=2)
    ys, xs = np.nonzero(band[0])
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (6, 10, 3, 26)
    assert band[0].sum() == 5 * 24 and not band[1].any()  # no change -> empty band


def test_laplacian_and_high_frequency_energy_by_hand():
    x = np.zeros((1, 5, 5, 3))
    x[0, 2, 2] = 10.0  # one bright pixel: Laplacian -40 at it, +10 at its 4 neighbours
    lap = M.laplacian(x)[0, :, :, 0]
    assert lap[2, 2] == -40 and lap[1, 2] == lap[3, 2] == lap[2, 1] == lap[2, 3] == 10 and lap[1, 1] == 0
    # interior is 3 x 3 = 9 pixels: (1600 + 4 * 100) / 9
    assert M.hf_energy(x)[0] == pytest.approx(2000 / 9)
    outside = np.ones((1, 5, 5), bool)
    outside[0, 2, 2] = False
    assert M.hf_energy(x, outside)[0] == pytest.approx(400 / 8)
    flat = np.full((1, 5, 5, 3), 77.0)
    assert M.hf_energy(flat)[0] == 0


def test_speckle_ratio_sees_blur_and_noise_outside_the_band():
    rng = np.random.default_rng(4)
    # a smooth image with some edges: stripes
    img = np.zeros((4, 32, 32, 3))
    img[:, :, ::4] = 200.0
    band = np.zeros((4, 32, 32), bool)
    band[:, 12:20] = True
    same = M.speckle(img, img, band)
    assert same["ratio"] == pytest.approx(1.0) and same["residual"] == 0 and same["unchanged"] == 1.0
    changed_in_band = img.copy()
    changed_in_band[:, 13:19] = rng.normal(100, 50, changed_in_band[:, 13:19].shape)
    assert M.speckle(changed_in_band, img, band)["ratio"] == pytest.approx(1.0)  # the band does not count
    assert M.speckle(changed_in_band, img, band)["unchanged"] == 1.0
    one_px = img.copy()
    one_px[0, 0, 0, 1] += 1  # one pixel of one image, one channel: 1 of 4 x (32 x 32 - 8 x 32) pixels outside
    assert M.speckle(one_px, img, band)["unchanged"] == pytest.approx(1 - 1 / (4 * 24 * 32))
    noisy = img + rng.normal(0, 20, img.shape)
    assert M.speckle(noisy, img, band)["ratio"] > 1.1 and M.speckle(noisy, img, band)["residual"] > 0.05
    blurred = (img + np.roll(img, 1, 2) + np.roll(img, -1, 2)) / 3
    assert M.speckle(blurred, img, band)["ratio"] < 0.9


def test_eval_metrics_of_doing_nothing_are_the_do_nothing_figures():
    from synthgen.gan.evaluate import image_metrics, pairs

    p = pairs(6)
    band = M.eye_band(p["b_with"], p["b_without"])
    m = image_metrics(p["b_without"], p["b_with"], p["b_without"], band, "add")
    for k in ("psnr", "ssim", "psnr_band", "ssim_band"):
        assert m[f"add_{k}"] == m[f"add_{k}_do_nothing"]
    assert m["add_speckle_ratio"] == 1.0 and m["add_speckle_residual"] == 0.0 and m["add_unchanged_outside"] == 1.0
    perfect = image_metrics(p["b_with"], p["b_with"], p["b_without"], band, "add")
    assert perfect["add_psnr"] == math.inf and perfect["add_ssim_band"] == pytest.approx(1.0)
    # the truth differs from the input only inside the band: speckle outside is the input's
    assert perfect["add_speckle_ratio"] == pytest.approx(1.0) and perfect["add_speckle_residual"] == 0.0
