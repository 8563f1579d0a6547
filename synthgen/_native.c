/* synthgen._native: optional compiled kernels (issue 23).

   Each function here has a pure-Python reference beside the code that calls it; synthgen
   runs the reference when this module is absent (no compiler at install time), stale (built
   from another version of this file) or switched off (SYNTHGEN_NATIVE=0). tests/test_native.py
   compares every kernel with its reference byte for byte, so the compiled path is a speed-up
   only: the same samples either way.

   Rules that keep the bytes the same as numpy's and Python's arithmetic:
   - IEEE double/float operations in the reference's order; no -ffast-math, and setup.py
     passes -ffp-contract=off so no compiler fuses a*b+c into one rounding (an FMA);
   - integer arithmetic on fixed widths where the reference masks (uint64 wraps as `& M64`);
   - no transcendental functions (their results depend on the library's kernels), except
     hypot, which numpy's np.hypot also takes from the C library (sqrt, rint, floor and ceil
     are exact); numpy's own sin, exp, tanh, ... stay numpy calls between kernels.
   Buffers come in through the buffer protocol: no numpy headers are needed to build.
   The kernels live in synthgen/csrc/, one file per area, #included below: one translation
   unit, so every helper stays static; the module's SOURCE hash covers every file. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#ifndef SYNTHGEN_NATIVE_SOURCE
#define SYNTHGEN_NATIVE_SOURCE "unknown"
#endif

/* -- shared helpers ----------------------------------------------------------------------- */

/* A C-contiguous buffer of format `fmt` ("d" float64, "f" float32, "B" uint8, ...); 0 on
   success, -1 (no exception) otherwise. */
static int typed_get(PyObject *o, Py_buffer *b, const char *fmt, int writable)
{
    if (PyObject_GetBuffer(o, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        PyErr_Clear();
        return -1;
    }
    if (!b->format || strcmp(b->format, fmt) != 0) {
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

/* typed_get for n buffers: the i-th of format fmts[i] (one character each), writable where
   writable[i] is '1'; 0 with all of them held, -1 with none (the ones taken are released) */
static int typed_get_all(PyObject *const *o, Py_buffer *b, const char *fmts, const char *writable, int n)
{
    for (int i = 0; i < n; i++) {
        char fmt[2] = {fmts[i], 0};
        if (typed_get(o[i], &b[i], fmt, writable[i] == '1') < 0) {
            while (i-- > 0)
                PyBuffer_Release(&b[i]);
            return -1;
        }
    }
    return 0;
}

static void release_all(Py_buffer *b, int n)
{
    for (int i = 0; i < n; i++)
        PyBuffer_Release(&b[i]);
}

/* -- the kernels, by what they serve (synthgen/csrc/) ------------------------------------------ */

#include "csrc/keyed.c"
#include "csrc/fields.c"
#include "csrc/labels.c"
#include "csrc/atlas.c"
#include "csrc/pixels.c"
#include "csrc/glyphs.c"
#include "csrc/layout.c"

/* -- module ---------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"unit", unit, METH_O, "unit(x) -> float: the uniform in [0, 1) of 64-bit key x (Draws.u)."},
    {"permute", (PyCFunction)(void (*)(void))permute, METH_FASTCALL,
     "permute(i, n, key) -> int: corpus.permute (NotImplemented outside 0 <= i < n < 2**62, 0 <= key < 2**64)."},
    {"label_round", label_round, METH_VARARGS,
     "label_round(parts, out64, out32) -> bool: core.label_round of the parts' values into both outputs; whether all are below F32_EXACT (NotImplemented: other arrays)."},
    {"inset_quads", inset_quads, METH_VARARGS,
     "inset_quads(quads, glyphs, out) -> bool: glyphs.inset_quads into out (False: no insets; NotImplemented: other input)."},
    {"expand_quads", expand_quads, METH_VARARGS,
     "expand_quads(quads, r, out): layout.expand_quads for r != 0 into out (NotImplemented: other input)."},
    {"hist_quantile", (PyCFunction)(void (*)(void))hist_quantile, METH_FASTCALL,
     "hist_quantile(hist, f) -> float: styles.hist_quantile under numpy 2's float32 promotion (NotImplemented: other input)."},
    {"score_quads", score_quads, METH_VARARGS,
     "score_quads(q, r, stride, out): east.score_map's shrink, map coordinates and _raster cells into the h x w uint8 out (NotImplemented: other input)."},
    {"atlas_index", (PyCFunction)(void (*)(void))atlas_index, METH_FASTCALL,
     "atlas_index(cps, off, geom, crc, edges, adv, out_cps, out_recs, out_advs): _Atlas._load's sorted compact index (True: needs int64; NotImplemented: other arrays)."},
    {"dilate3", dilate3, METH_VARARGS, "dilate3(src, dst): cv2.dilate with a 3 x 3 kernel of a 2-D uint8 image into dst (NotImplemented: other arrays)."},
    {"grid_place", grid_place, METH_VARARGS,
     "grid_place(grid, grown, foot, kx, ky) -> bool: SceneRenderer._place's try at (kx, ky): free (foot ORed in) or not (NotImplemented: other arrays)."},
    {"elastic_mix", (PyCFunction)(void (*)(void))elastic_mix, METH_FASTCALL,
     "elastic_mix(rx, ry, wave, s, fa, fb, dx, dy): elastic_field's wave and bends summed into dx, dy (NotImplemented: other arrays)."},
    {"grid_plus", (PyCFunction)(void (*)(void))grid_plus, METH_FASTCALL,
     "grid_plus(dx, dy, ox, out_x, out_y, out_xy): pixel grid (offset ox) plus displacement, float32 maps or float64 points (NotImplemented: other arrays)."},
    {"split_maps", split_maps, METH_VARARGS, "split_maps(src, mx, my): float32(src - 0.5) per component of H x W x 2 float64 points (NotImplemented: other arrays)."},
    {"bilinear", bilinear, METH_VARARGS, "bilinear(f, p, out): geometric._bilinear of a float32 map at float64 points into out (NotImplemented: other input)."},
    {"draw_u", (PyCFunction)(void (*)(void))draw_u, METH_FASTCALL,
     "draw_u(ctx, name) -> float: Draws.u (NotImplemented: a name with no cached key)."},
    {"draw_uniform", (PyCFunction)(void (*)(void))draw_uniform, METH_FASTCALL,
     "draw_uniform(ctx, name, lo, hi) -> float: Draws.uniform with no trace, bias or pins, recorded (NotImplemented: other input)."},
    {"draw_integers", (PyCFunction)(void (*)(void))draw_integers, METH_FASTCALL,
     "draw_integers(ctx, name, lo, hi) -> int: Draws.integers with no trace, bias or pins, recorded (NotImplemented: other input)."},
    {"draw_bernoulli", (PyCFunction)(void (*)(void))draw_bernoulli, METH_FASTCALL,
     "draw_bernoulli(ctx, name, p) -> bool: Draws.bernoulli with no trace, bias or pins, recorded (NotImplemented: other input)."},
    {"draw_bernoullis", (PyCFunction)(void (*)(void))draw_bernoullis, METH_FASTCALL,
     "draw_bernoullis(ctx, names, ps, scale) -> (taken, fired): Draws.bernoulli(names[i], ps[i] * scale) in order while it can, recorded (NotImplemented: other input)."},
    {"draw_choice", (PyCFunction)(void (*)(void))draw_choice, METH_FASTCALL,
     "draw_choice(ctx, name, options) -> option: Draws.choice of equal odds with no trace, bias or pins, recorded (NotImplemented: other input)."},
    {"follow_tail", follow_tail, METH_VARARGS,
     "follow_tail(m, holds, per_edge, out): linestyles.follow_quads after its forward map, into n x 4 x 2 float32."},
    {"forward_exact", forward_exact, METH_VARARGS,
     "forward_exact(q, p, f, H, W, tol, iters): linestyles.forward's exact steps, q updated in place."},
    {"seed_words", seed_words, METH_O,
     "seed_words(seed) -> 32 bytes: SeedSequence(seed).generate_state(4, uint64), little-endian (NotImplemented outside 0..2**64-1)."},
    {"colour_map", colour_map, METH_VARARGS,
     "colour_map(c0, c1, ramp, out): backgrounds._colour_map into a 256 x 3 uint8 array."},
    {"blend_field", blend_field, METH_VARARGS,
     "blend_field(img, alpha, field): linestyles.blend_field of an RGB image, in place."},
    {"blend", blend, METH_VARARGS, "blend(img, alpha, r, g, b): styles.blend at opacity 1, in place (NotImplemented: not uint8 RGB and alpha of one size)."},
    {"photo_walk", photo_walk, METH_VARARGS,
     "photo_walk(fd, off, h, w, c, u, v, lo, hi, tries) -> (r, g, b) | None: styles.photo_contrasting's walk over a FileTile (NotImplemented: other input, a short read)."},
    {"fold_args", fold_args, METH_VARARGS,
     "fold_args(X, Y, c, w, w6, t, e): backgrounds._fold's tanh and exp arguments into t and e (NotImplemented: other arrays)."},
    {"fold_shade", fold_shade, METH_VARARGS,
     "fold_shade(img, t, e, fs): backgrounds._fold's shade applied to uint8 RGB img in place (NotImplemented: other arrays)."},
    {"colour_lut", colour_lut, METH_VARARGS,
     "colour_lut(grey, lut, out): cv2.applyColorMap of 2-D uint8 grey with a 256 x 1 x 3 user table into h x w x 3 out (NotImplemented: other arrays)."},
    {"gray", gray, METH_VARARGS, "gray(img, out): cv2.COLOR_RGB2GRAY of uint8 RGB into out (h x w uint8)."},
    {"luma_hist", luma_hist, METH_VARARGS,
     "luma_hist(img, alpha, level, out): styles.luma_under of an RGB image, into 256 float32."},
    {"masked_hist", masked_hist, METH_VARARGS,
     "masked_hist(y, alpha, level, out): styles.luma_under's histogram of y into 256 float32 (NotImplemented: other inputs)."},
    {"array_probe", array_probe, METH_O, "array_probe(a) -> (data address, ndim, shape, strides, is uint8): numpy's array fields as compose reads them."},
    {"array_setup", array_setup, METH_VARARGS, "array_setup(ndarray, uint8 dtype, np.zeros): what the array kernels compare and call."},
    {"array_ready", array_ready, METH_O, "array_ready(ok) -> bool: turn the array kernels on (after the probes agreed) or off."},
    {"compose", compose, METH_VARARGS,
     "compose(glyphs, spacing, pad[, out]) -> (canvas, boxes, oy): glyphs.compose_line without jitter; with out (float32 n x 4), the boxes written there (NotImplemented: other input)."},
    {"box_quads", box_quads, METH_VARARGS,
     "box_quads(boxes, out) -> (min x0, max x1): layout.box_quads of float32 boxes into out (NotImplemented: other input)."},
    {"mat3_array", (PyCFunction)(void (*)(void))mat3_array, METH_FASTCALL,
     "mat3_array(H, out, affine): np.array(H, np.float64) of a tuple matrix of floats into out, or with affine np.array(H[:2]) / H[2][2] (NotImplemented: other input)."},
    {"oriented_box", (PyCFunction)(void (*)(void))oriented_box, METH_FASTCALL,
     "oriented_box(u, v, c, s, out): layout.oriented_quad's extremes and corners from the projections u, v (NotImplemented: other input)."},
    {"word_boxes", (PyCFunction)(void (*)(void))word_boxes, METH_FASTCALL,
     "word_boxes(cq, words, out): scenestyles.word_boxes' axis boxes of each word's char quads into out (NotImplemented: other input)."},
    {"stack_points", (PyCFunction)(void (*)(void))stack_points, METH_FASTCALL,
     "stack_points(chars, quad, out): np.concatenate([chars.reshape(-1, 2), quad]).astype(np.float64) of float32 arrays into out (NotImplemented: other input)."},
    {"mm3", (PyCFunction)(void (*)(void))mm3, METH_FASTCALL,
     "mm3(A, B) -> A @ B: layout.mm3 of 3 x 3 tuple matrices of floats (NotImplemented: other input)."},
    {"apply_t", (PyCFunction)(void (*)(void))apply_t, METH_FASTCALL,
     "apply_t(H, pts) -> [(x, y), ...]: layout.apply_t of a tuple matrix of floats (NotImplemented: other input)."},
    {"curved_frame", curved_frame, METH_VARARGS,
     "curved_frame(rel, cx, px, py, cos, sin, pad, quads, A) -> (lo_x, lo_y, W, H, boxes): layout._curved_frame into quads and A (NotImplemented: other input)."},
    {"atlas_glyph", (PyCFunction)(void (*)(void))atlas_glyph, METH_FASTCALL,
     "atlas_glyph(cps, recs, advs, blob, cp, Glyph, edge, half) -> Glyph | None | False | NotImplemented: _Atlas.get's read of a glyph from a small entry."},
    {"crc32", crc32, METH_O, "crc32(data) -> int: zlib.crc32 of a buffer (atlas_glyph's check)."},
    {"paste_max", paste_max, METH_VARARGS,
     "paste_max(canvas, masks, xs, ys): each mask maxed into the canvas at (x, y), in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "synthgen._native",
    "Optional compiled kernels; each has a pure-Python reference (see synthgen/native.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    /* the SHA-256 of this file when it was compiled: synthgen/native.py ignores a module built
       from another version of it (an editable checkout edited after `pip install -e .`) */
    s_mask = PyUnicode_InternFromString("mask");
    s_x0 = PyUnicode_InternFromString("x0");
    s_y0 = PyUnicode_InternFromString("y0");
    s_w = PyUnicode_InternFromString("w");
    s_h = PyUnicode_InternFromString("h");
    s_advance = PyUnicode_InternFromString("advance");
    s_blank = PyUnicode_InternFromString("blank");
    s_inset = PyUnicode_InternFromString("inset");
    if (!s_mask || !s_x0 || !s_y0 || !s_w || !s_h || !s_advance || !s_blank || !s_inset) {
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "SOURCE", SYNTHGEN_NATIVE_SOURCE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
