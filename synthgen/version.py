"""Version constants, in a leaf module (imports nothing) so any part of the package can use
them without importing the package facade (`synthgen/__init__.py`)."""

__version__ = "0.2.0"
# Bumped whenever the same (config, seed, index) renders different bytes: a resume refuses to
# add samples of one stream to shards of another. 2: keyed BLAKE2b seeding, buffered draws.
# 3: keyed draws per factor name (factor contract), scene corpus walk, augmentation stage.
# 4: pixel noise on frames over 512 px tiles one 1024 px bank (was a bank of 2x the frame).
# 5: document portraits follow the holder (sex, age band, the template's photo.look).
# 6: text lines: new factors (per-character rotation, tight crops, squeeze, a word behind,
#    outline + shadow), running text wraps by dropping its last words; ocr_line's wider defaults.
# 7: after an elastic warp a quad grows to hold its bent text (points along its edges and its char
#    quads), which the four mapped corners alone cut into by up to ~2 px.
# 8: document pipelines: portraits' hair shine is a short arc inside the crown and long hair one
#    polygon (was a straight bar that could leave the hair, and a notch); card watermarks
#    ("RESIDENT IDENTITY", "UTO") are don't-care line instances (labels and EAST score maps).
# 9: numpy's and OpenCV's kernels capped at AVX2 on AVX-512 machines (synthgen/numerics.py): an
#    AVX-512 machine rendered ~0.3-2% of samples a level apart in some pixels; score maps written
#    at PNG compression 1 (248 B against 432 B, and faster).
SAMPLE_STREAM = 9
