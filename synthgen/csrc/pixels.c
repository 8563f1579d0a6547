/* synthgen._native, uint8 images: scene placement, blends, luma histograms and quantiles.
   Included by synthgen/_native.c (one translation unit): its rules apply here. */

/* -- uint8 images through the buffer protocol ------------------------------------------------- */

/* A 2-D (h x w) or 3-D (h x w x 3) uint8 view with any row and pixel strides; channels of a
   3-D view must be adjacent (numpy slices of an RGB image are). */
typedef struct {
    Py_buffer buf;
    Py_ssize_t h, w, c, rs, ps;
    unsigned char *p;
} View;

/* 0 on success; -1 (no exception set) when `o` is not such an array: the kernels then return
   NotImplemented and the caller runs its reference code, which handles or rejects it */
static int view_get(PyObject *o, View *v, int channels, int writable)
{
    int flags = PyBUF_RECORDS_RO | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(o, &v->buf, flags) < 0) {
        PyErr_Clear();
        return -1;
    }
    Py_buffer *b = &v->buf;
    int nd_ok = channels == 1 ? (b->ndim == 2) : (b->ndim == 3 && b->shape[2] == channels && b->strides[2] == 1);
    if (b->itemsize != 1 || (b->format && strcmp(b->format, "B") != 0) || !nd_ok) {
        PyBuffer_Release(b);
        return -1;
    }
    v->h = b->shape[0];
    v->w = b->shape[1];
    v->c = channels;
    v->rs = b->strides[0];
    v->ps = b->strides[1];
    v->p = (unsigned char *)b->buf;
    return 0;
}

/* view_get for n arrays: the i-th with channels[i] channels, writable where writable[i] is
   '1'; 0 with all of them held, -1 with none (the ones taken are released) */
static int views_get_all(PyObject *const *o, View *v, const int *channels, const char *writable, int n)
{
    for (int i = 0; i < n; i++) {
        if (view_get(o[i], &v[i], channels[i], writable[i] == '1') < 0) {
            while (i-- > 0)
                PyBuffer_Release(&v[i].buf);
            return -1;
        }
    }
    return 0;
}

static void views_release(View *v, int n)
{
    for (int i = 0; i < n; i++)
        PyBuffer_Release(&v[i].buf);
}

/* -- scene placement (synthgen/renderers/scene.py: SceneRenderer._place) ---------------------------- */

/* dilate3(src, dst): cv2.dilate(src, 3 x 3 ones) of a 2-D uint8 image into dst (the same shape):
   each pixel the largest of its in-bounds 3 x 3 neighbours (OpenCV's default border adds
   nothing to a dilation). None, or NotImplemented for other arrays. */
static PyObject *dilate3(PyObject *self, PyObject *args)
{
    PyObject *os, *od;
    if (!PyArg_ParseTuple(args, "OO", &os, &od)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *arr[2] = {os, od};
    static const int one[2] = {1, 1};
    View v[2];
    if (views_get_all(arr, v, one, "01", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    View a = v[0], b = v[1];
    PyObject *out = Py_None;
    unsigned char *hm = NULL; /* each row's 3-wide maxima, then 3 rows of those: separable */
    if (a.h != b.h || a.w != b.w || a.p == b.p || a.w == 0 || a.h == 0 ||
        (hm = PyMem_Malloc((size_t)(a.h * a.w))) == NULL) {
        out = Py_NotImplemented;
    } else {
        for (Py_ssize_t y = 0; y < a.h; y++) {
            const unsigned char *r = a.p + y * a.rs;
            unsigned char *o = hm + y * a.w;
            for (Py_ssize_t x = 0; x < a.w; x++) {
                unsigned char m = r[x * a.ps];
                if (x > 0 && r[(x - 1) * a.ps] > m)
                    m = r[(x - 1) * a.ps];
                if (x + 1 < a.w && r[(x + 1) * a.ps] > m)
                    m = r[(x + 1) * a.ps];
                o[x] = m;
            }
        }
        for (Py_ssize_t y = 0; y < a.h; y++) {
            const unsigned char *u = hm + (y > 0 ? y - 1 : y) * a.w, *c = hm + y * a.w,
                                *d = hm + (y + 1 < a.h ? y + 1 : y) * a.w;
            unsigned char *o = b.p + y * b.rs;
            for (Py_ssize_t x = 0; x < a.w; x++) {
                unsigned char m = c[x] > u[x] ? c[x] : u[x];
                o[x * b.ps] = d[x] > m ? d[x] : m;
            }
        }
    }
    PyMem_Free(hm);
    views_release(v, 2);
    Py_INCREF(out);
    return out;
}

/* grid_place(grid, grown, foot, kx, ky) -> bool: _place's try at grid cell (kx, ky) (in bounds:
   the caller checked): False when a cell of the grid under a nonzero cell of `grown` is nonzero
   (cv2.norm(region, NORM_INF, grown)); else `foot` ORed into the grid there and True.
   NotImplemented for other arrays or a spot off the grid. */
static PyObject *grid_place(PyObject *self, PyObject *args)
{
    PyObject *og, *ogr, *of;
    Py_ssize_t kx, ky;
    if (!PyArg_ParseTuple(args, "OOOnn", &og, &ogr, &of, &kx, &ky)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *arr[3] = {og, ogr, of};
    static const int one[3] = {1, 1, 1};
    View v[3];
    if (views_get_all(arr, v, one, "100", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    const View *g = &v[0], *r = &v[1], *f = &v[2]; /* grid, grown, foot */
    PyObject *out;
    if (r->h != f->h || r->w != f->w || kx < 0 || ky < 0 || kx + r->w > g->w || ky + r->h > g->h) {
        out = Py_NotImplemented;
    } else {
        int hit = 0;
        for (Py_ssize_t y = 0; y < r->h && !hit; y++)
            for (Py_ssize_t x = 0; x < r->w; x++)
                if (r->p[y * r->rs + x * r->ps] && g->p[(ky + y) * g->rs + (kx + x) * g->ps]) {
                    hit = 1;
                    break;
                }
        if (!hit)
            for (Py_ssize_t y = 0; y < f->h; y++)
                for (Py_ssize_t x = 0; x < f->w; x++)
                    g->p[(ky + y) * g->rs + (kx + x) * g->ps] |= f->p[y * f->rs + x * f->ps];
        out = hit ? Py_False : Py_True;
    }
    views_release(v, 3);
    Py_INCREF(out);
    return out;
}

/* -- blends (synthgen/renderers/styles.py: blend) ------------------------------------------------- */

/* OpenCV's uint8 products, cv2.multiply(x, y, scale=1/255) and cv2.convertScaleAbs(a,
   alpha=c/255), round x * y * float32(1/255) to the nearest integer; for x, y in 0..255 that is
   exactly x * y / 255 rounded (no ties: 255 is odd), which this integer form gives for every
   product 0..65025 without leaving 16 bits (tests/test_native.py checks the blends against
   OpenCV for every uint8 pair): plain 16-bit arithmetic the compiler vectorises. */
static inline uint16_t div255(uint16_t x)
{
    uint16_t t = (uint16_t)(x + 128u);
    return (uint16_t)((t + (t >> 8)) >> 8);
}

/* one row, 3n values: img = saturate(div255(img * (255 - a)) + div255(a * c)), a and c
   given per value (alpha repeated per channel, the colour's channels repeated per pixel) */
static inline void blend_row(unsigned char *restrict pi, const unsigned char *restrict a3,
                             const unsigned char *restrict c3, Py_ssize_t n3)
{
    for (Py_ssize_t j = 0; j < n3; j++) {
        uint16_t av = a3[j];
        uint16_t v = (uint16_t)(div255((uint16_t)(pi[j] * (uint16_t)(255u - av))) + div255((uint16_t)(av * c3[j])));
        pi[j] = (unsigned char)(v > 255u ? 255u : v);
    }
}

/* img += (colour - img) * alpha / 255 as OpenCV computes it for styles.blend: cv2.add of
   cv2.multiply(img, 255 - a, scale=1/255) and cv2.convertScaleAbs(a, alpha=colour/255) */
static PyObject *blend(PyObject *self, PyObject *args)
{
    PyObject *oimg, *oa;
    double cr, cg, cb;
    if (!PyArg_ParseTuple(args, "OOddd", &oimg, &oa, &cr, &cg, &cb))
        return NULL;
    int col[3] = {(int)cr, (int)cg, (int)cb};
    if (col[0] != cr || col[1] != cg || col[2] != cb || col[0] < 0 || col[1] < 0 || col[2] < 0 || col[0] > 255 ||
        col[1] > 255 || col[2] > 255)
        Py_RETURN_NOTIMPLEMENTED; /* the integer form holds for integer colours 0..255 */
    PyObject *arr[2] = {oimg, oa};
    static const int chans[2] = {3, 1};
    View v[2];
    if (views_get_all(arr, v, chans, "10", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    View img = v[0], a = v[1];
    if (a.h != img.h || a.w != img.w || img.ps != 3) {
        views_release(v, 2);
        Py_RETURN_NOTIMPLEMENTED;
    }
    unsigned char *a3 = PyMem_Malloc(6 * (img.w ? img.w : 1)), *c3 = a3 + 3 * (img.w ? img.w : 1);
    if (a3 == NULL) {
        views_release(v, 2);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t x = 0; x < img.w; x++) {
        c3[3 * x] = (unsigned char)col[0];
        c3[3 * x + 1] = (unsigned char)col[1];
        c3[3 * x + 2] = (unsigned char)col[2];
    }
    for (Py_ssize_t y = 0; y < img.h; y++) {
        const unsigned char *pa = a.p + y * a.rs;
        /* the row's ink span: where alpha is 0 nothing changes (div255(v * 255) is v) */
        Py_ssize_t x0 = 0, x1 = img.w;
        while (x0 < x1 && pa[x0 * a.ps] == 0)
            x0++;
        while (x1 > x0 && pa[(x1 - 1) * a.ps] == 0)
            x1--;
        if (x0 == x1)
            continue;
        for (Py_ssize_t x = x0; x < x1; x++)
            a3[3 * x] = a3[3 * x + 1] = a3[3 * x + 2] = pa[x * a.ps];
        blend_row(img.p + y * img.rs + 3 * x0, a3 + 3 * x0, c3 + 3 * x0, 3 * (x1 - x0));
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(a3);
    views_release(v, 2);
    Py_RETURN_NONE;
}

/* linestyles.blend_field: img = (uint8)(float32(img) * (1 - a) + float32(field) * a + 0.5) with
   a = float32(alpha) / 255, numpy's float32 operations in its order and its truncating cast
   (checked for every (pixel, alpha, field) triple in tests/test_native.py). img, field:
   h x w x 3 uint8 (channels adjacent), alpha h x w uint8. */
static inline void blend_field_row(unsigned char *restrict pi, const unsigned char *restrict pf,
                                   const float *restrict a3, Py_ssize_t n3)
{
    for (Py_ssize_t j = 0; j < n3; j++) {
        float av = a3[j];
        float v = ((float)pi[j] * (1.0f - av) + (float)pf[j] * av) + 0.5f;
        pi[j] = (unsigned char)(int)v;
    }
}

static PyObject *blend_field(PyObject *self, PyObject *args)
{
    PyObject *oimg, *oa, *ofield;
    if (!PyArg_ParseTuple(args, "OOO", &oimg, &oa, &ofield))
        return NULL;
    PyObject *arr[3] = {oimg, oa, ofield};
    static const int chans[3] = {3, 1, 3};
    View v[3];
    if (views_get_all(arr, v, chans, "100", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    View img = v[0], a = v[1], f = v[2];
    if (a.h != img.h || a.w != img.w || f.h != img.h || f.w != img.w) {
        views_release(v, 3);
        Py_RETURN_NOTIMPLEMENTED;
    }
    float af[256];
    for (int v = 0; v < 256; v++)
        af[v] = (float)v / 255.0f;
    float *a3 = NULL;
    if (img.ps == 3 && f.ps == 3) /* rows of adjacent pixels: one vectorisable loop a row */
        a3 = PyMem_Malloc(sizeof(float) * 3 * (img.w ? img.w : 1));
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t y = 0; y < img.h; y++) {
        unsigned char *pi = img.p + y * img.rs;
        const unsigned char *pa = a.p + y * a.rs, *pf = f.p + y * f.rs;
        if (a3 != NULL) {
            for (Py_ssize_t x = 0; x < img.w; x++)
                a3[3 * x] = a3[3 * x + 1] = a3[3 * x + 2] = af[pa[x * a.ps]];
            blend_field_row(pi, pf, a3, 3 * img.w);
            continue;
        }
        for (Py_ssize_t x = 0; x < img.w; x++, pi += img.ps, pa += a.ps, pf += f.ps) {
            float av = af[*pa], iv = 1.0f - av;
            for (int c = 0; c < 3; c++) {
                float v = ((float)pi[c] * iv + (float)pf[c] * av) + 0.5f;
                pi[c] = (unsigned char)(int)v;
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(a3);
    views_release(v, 3);
    Py_RETURN_NONE;
}

/* backgrounds._colour_map: out[v][c] = (uint8)(float32(c0[c]) + 0.5 + (float32(c1[c]) - float32(c0[c]))
   * ramp[v]), numpy's float32 operations in its order and its truncating cast; ramp: 256
   float32, out: 256 x 3 uint8 (C-contiguous). */
static PyObject *colour_map(PyObject *self, PyObject *args)
{
    double c0[3], c1[3];
    PyObject *oramp, *oout;
    if (!PyArg_ParseTuple(args, "(ddd)(ddd)OO", &c0[0], &c0[1], &c0[2], &c1[0], &c1[1], &c1[2], &oramp, &oout))
        return NULL;
    PyObject *arr[2] = {oramp, oout};
    Py_buffer b[2];
    if (typed_get_all(arr, b, "fB", "01", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (b[0].len != 256 * 4 || b[1].len != 256 * 3) {
        release_all(b, 2);
        Py_RETURN_NOTIMPLEMENTED;
    }
    const float *r = (const float *)b[0].buf;
    unsigned char *o = (unsigned char *)b[1].buf;
    for (int c = 0; c < 3; c++) {
        float a = (float)c0[c], b = (float)c1[c], base = a + 0.5f, d = b - a;
        for (int v = 0; v < 256; v++) {
            float x = base + d * r[v];
            /* numpy's float32 -> uint8 cast of 0..255.99 (the colours are 0..255) */
            o[3 * v + c] = (unsigned char)(int)x;
        }
    }
    release_all(b, 2);
    Py_RETURN_NONE;
}

/* -- luma histograms (synthgen/renderers/styles.py: luma_under) ------------------------------------ */

/* OpenCV's COLOR_RGB2GRAY for uint8: (9798 R + 19235 G + 3735 B + 2^14) >> 15, equal to
   cv2.cvtColor for all 2^24 colours with OpenCV 5.1 (tests/test_native.py); styles.py checks
   it against the cv2 it runs with (`gray`) before using `luma_hist`. */
static inline unsigned int gray_of(const unsigned char *p)
{
    return (9798u * p[0] + 19235u * p[1] + 3735u * p[2] + 16384u) >> 15;
}

/* out = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) by the formula above (h x w uint8 output) */
static PyObject *gray(PyObject *self, PyObject *args)
{
    PyObject *oimg, *oout;
    if (!PyArg_ParseTuple(args, "OO", &oimg, &oout))
        return NULL;
    PyObject *arr[2] = {oimg, oout};
    static const int chans[2] = {3, 1};
    View v[2];
    if (views_get_all(arr, v, chans, "01", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    View img = v[0], out = v[1];
    if (out.h != img.h || out.w != img.w) {
        views_release(v, 2);
        Py_RETURN_NOTIMPLEMENTED;
    }
    for (Py_ssize_t r = 0; r < img.h; r++)
        for (Py_ssize_t c = 0; c < img.w; c++)
            out.p[r * out.rs + c * out.ps] = (unsigned char)gray_of(img.p + r * img.rs + c * img.ps);
    views_release(v, 2);
    Py_RETURN_NONE;
}

/* styles.luma_under's histogram: out[v] = the number of pixels with value v where alpha >=
   level, else (no alpha reaches it) where alpha > 0, else (alpha all 0) of every pixel; the
   value is the pixel of a 1-channel image (`masked_hist`) or the grey value (gray_of) of an
   RGB one (`luma_hist`). `out`: 256 float32, written whole (np.bincount(...).astype(np.float32):
   counts are exact up to 2**24). */
static PyObject *hist_of(PyObject *args, int channels)
{
    PyObject *oimg, *oa, *oout;
    int level;
    if (!PyArg_ParseTuple(args, "OOiO", &oimg, &oa, &level, &oout))
        return NULL;
    PyObject *arr[2] = {oimg, oa};
    const int chans[2] = {channels, 1};
    View vw[2];
    Py_buffer out;
    if (views_get_all(arr, vw, chans, "00", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    View img = vw[0], a = vw[1];
    if (typed_get(oout, &out, "f", 1) < 0) {
        views_release(vw, 2);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (a.h != img.h || a.w != img.w || out.len != 256 * 4 || img.h * img.w >= (1 << 24) || level < 1 ||
        level > 255) {
        views_release(vw, 2);
        PyBuffer_Release(&out);
        Py_RETURN_NOTIMPLEMENTED;
    }
    uint32_t h[256] = {0};
    Py_ssize_t n = 0;
    /* pass 1: alpha >= level (almost always some); pass 2: alpha > 0; pass 3: every pixel */
    Py_BEGIN_ALLOW_THREADS
    for (int pass = 0; pass < 3 && n == 0; pass++) {
        unsigned int lo = pass == 0 ? (unsigned int)level : (pass == 1 ? 1u : 0u);
        for (Py_ssize_t r = 0; r < img.h; r++) {
            const unsigned char *pa = a.p + r * a.rs, *pi = img.p + r * img.rs;
            for (Py_ssize_t c = 0; c < img.w; c++)
                if (pa[c * a.ps] >= lo) {
                    const unsigned char *px = pi + c * img.ps;
                    h[channels == 3 ? gray_of(px) : px[0]]++;
                    n++;
                }
        }
    }
    Py_END_ALLOW_THREADS
    float *o = (float *)out.buf;
    for (int v = 0; v < 256; v++)
        o[v] = (float)h[v];
    views_release(vw, 2);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyObject *masked_hist(PyObject *self, PyObject *args)
{
    return hist_of(args, 1);
}

static PyObject *luma_hist(PyObject *self, PyObject *args)
{
    return hist_of(args, 3);
}

/* styles.hist_quantile under numpy 2's promotion (a Python float times a float32 scalar is a
   float32): hist_quantile(hist, f) -> float: hist 256 float32 (any length, C-contiguous), its
   cumulative sum c in float32 added in order (numpy's cumsum), then the number of c's values
   below float32(f) * c[-1] (searchsorted, left) as a float; 128.0 unless c[-1] > 0.
   NotImplemented for other input (and a NaN f). */
static PyObject *hist_quantile(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyFloat_CheckExact(args[1]))
        Py_RETURN_NOTIMPLEMENTED;
    double f = PyFloat_AS_DOUBLE(args[1]);
    if (f != f)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer b;
    if (typed_get(args[0], &b, "f", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = b.len / 4;
    const float *h = (const float *)b.buf;
    float c[1024], acc = 0.0f;
    if (n < 1 || n > 1024) {
        PyBuffer_Release(&b);
        Py_RETURN_NOTIMPLEMENTED;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        acc = acc + h[i];
        c[i] = acc;
    }
    PyBuffer_Release(&b);
    if (!(c[n - 1] > 0.0f))
        return PyFloat_FromDouble(128.0);
    float t = (float)f * c[n - 1];
    Py_ssize_t lo = 0, hi = n; /* the first index whose value is not below t (c is sorted: no NaN) */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (c[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return PyFloat_FromDouble((double)lo);
}

/* -- the photo-colour walk (synthgen/renderers/styles.py: photo_contrasting) ------------------- */

#ifndef _WIN32
#include <unistd.h>
#endif

/* photo_walk(fd, off, h, w, c, u, v, lo, hi, tries) -> (r, g, b) | None | NotImplemented:
   photo_contrasting's walk over a tile of the store's file (tiles.FileTile: h x w x c uint8 at
   byte `off` of descriptor fd), each pixel one 3-byte pread: the first pixel of the walk whose
   luma (0.299 r + 0.587 g + 0.114 b, doubles in that order) is <= lo or >= hi, None if none of
   the `tries` is. The walk's row and column as the reference computes them: trunc(((v + k *
   0.381966) % 1.0) * (h - 1)) (fmod is Python's % for the non-negative values here).
   NotImplemented: c != 3, u or v outside [0, 1), a short read (the reference raises), no pread. */
static PyObject *photo_walk(PyObject *self, PyObject *args)
{
    int fd, tries;
    long long off;
    Py_ssize_t h, w, c;
    double u, v, lo, hi;
    if (!PyArg_ParseTuple(args, "iLnnnddddi", &fd, &off, &h, &w, &c, &u, &v, &lo, &hi, &tries)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
#ifdef _WIN32
    Py_RETURN_NOTIMPLEMENTED;
#else
    if (c != 3 || h < 1 || w < 1 || off < 0 || !(u >= 0.0 && u < 1.0) || !(v >= 0.0 && v < 1.0))
        Py_RETURN_NOTIMPLEMENTED;
    for (int k = 0; k < tries; k++) {
        double fv = fmod(v + (double)k * 0.381966, 1.0), fu = fmod(u + (double)k * 0.618034, 1.0);
        Py_ssize_t r = (Py_ssize_t)(fv * (double)(h - 1)), q = (Py_ssize_t)(fu * (double)(w - 1));
        unsigned char p[3];
        if (pread(fd, p, 3, (off_t)(off + (long long)(r * w + q) * 3)) != 3)
            Py_RETURN_NOTIMPLEMENTED;
        double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        if (y <= lo || y >= hi)
            return Py_BuildValue("(iii)", (int)p[0], (int)p[1], (int)p[2]);
    }
    Py_RETURN_NONE;
#endif
}

/* -- the paper background's fold (synthgen/renderers/backgrounds.py: _fold) -------------------- */

/* fold_args(X, Y, c, w, w6, t, e): the fold's distance d = (X[j] + Y[i]) - c at each pixel (i, j)
   of an h x w image (X (w,), Y (h,) float64), and the arguments of its tanh and exp: t = d / w,
   e = (-|d|) / w6, into t and e (h x w float64). The reference's double operations in its
   order; numpy's tanh and exp then run on t and e (their kernels are numpy's, not libm's). */
static PyObject *fold_args(PyObject *self, PyObject *args)
{
    PyObject *o[4];
    double c, w, w6;
    if (!PyArg_ParseTuple(args, "OOdddOO", &o[0], &o[1], &c, &w, &w6, &o[2], &o[3])) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer b[4];
    if (typed_get_all(o, b, "dddd", "0011", 4) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t W = b[0].len / 8, H = b[1].len / 8;
    if (b[2].len != 8 * W * H || b[3].len != 8 * W * H) {
        release_all(b, 4);
        Py_RETURN_NOTIMPLEMENTED;
    }
    const double *X = b[0].buf, *Y = b[1].buf;
    double *t = b[2].buf, *e = b[3].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < H; i++)
        for (Py_ssize_t j = 0; j < W; j++) {
            double d = (X[j] + Y[i]) - c;
            t[i * W + j] = d / w;
            e[i * W + j] = -fabs(d) / w6;
        }
    Py_END_ALLOW_THREADS
    release_all(b, 4);
    Py_RETURN_NONE;
}

/* fold_shade(img, t, e, fs): in place, img (h x w x 3 uint8, C-contiguous) times its shade
   float32(1.0 + (fs * tanh) * exp) per pixel (t and e: numpy's tanh and exp, h x w float64):
   each channel float32(v) * shade in float32, clipped to 0..255 and truncated to uint8, as
   np.clip(img * shade, 0, 255).astype(np.uint8) */
static PyObject *fold_shade(PyObject *self, PyObject *args)
{
    PyObject *o[3];
    double fs;
    if (!PyArg_ParseTuple(args, "OOOd", &o[0], &o[1], &o[2], &fs)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer b[3];
    if (typed_get_all(o, b, "Bdd", "100", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = b[1].len / 8;
    if (b[0].len != 3 * n || b[2].len != 8 * n || b[0].ndim != 3 || b[0].shape[2] != 3) {
        release_all(b, 3);
        Py_RETURN_NOTIMPLEMENTED;
    }
    unsigned char *p = b[0].buf;
    const double *t = b[1].buf, *e = b[2].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        float s = (float)(1.0 + (fs * t[k]) * e[k]);
        for (int ch = 0; ch < 3; ch++) {
            float v = (float)p[3 * k + ch] * s;
            v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
            p[3 * k + ch] = (unsigned char)v;
        }
    }
    Py_END_ALLOW_THREADS
    release_all(b, 3);
    Py_RETURN_NONE;
}

/* -- grey through a colour table (synthgen/renderers/backgrounds.py: _apply_map) --------------- */

/* colour_lut(grey, lut, out): out[y, x] = lut[grey[y, x]] for a 2-D uint8 grey (any row stride,
   unit pixel stride), a 256 x 1 x 3 uint8 table (C-contiguous) and an h x w x 3 uint8 out: what
   cv2.applyColorMap(grey, lut) gives for a user table, in one pass (OpenCV converts the grey to
   3 channels first, then looks each channel up: two). NotImplemented for other arrays. */
static PyObject *colour_lut(PyObject *self, PyObject *args)
{
    PyObject *og, *ol, *oo;
    if (!PyArg_ParseTuple(args, "OOO", &og, &ol, &oo)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *arr[2] = {og, oo};
    static const int chans[2] = {1, 3};
    View v[2];
    if (views_get_all(arr, v, chans, "01", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer lb;
    if (typed_get(ol, &lb, "B", 0) < 0) {
        views_release(v, 2);
        Py_RETURN_NOTIMPLEMENTED;
    }
    View g = v[0], o = v[1];
    if (lb.len != 768 || g.ps != 1 || g.h != o.h || g.w != o.w || o.ps != 3) {
        PyBuffer_Release(&lb);
        views_release(v, 2);
        Py_RETURN_NOTIMPLEMENTED;
    }
    const unsigned char *lut = lb.buf;
    uint32_t lut4[256]; /* each entry's 3 bytes and a spare: one 4-byte store a pixel, the spare
                           byte overwritten by the next pixel's (the row's last pixel: 3 bytes) */
    for (int i = 0; i < 256; i++)
        memcpy(&lut4[i], lut + 3 * i, 3), ((unsigned char *)&lut4[i])[3] = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t y = 0; y < g.h; y++) {
        const unsigned char *s = g.p + y * g.rs;
        unsigned char *d = o.p + y * o.rs;
        Py_ssize_t x = 0;
        for (; x + 1 < g.w; x++)
            memcpy(d + 3 * x, &lut4[s[x]], 4);
        if (x < g.w)
            memcpy(d + 3 * x, &lut4[s[x]], 3);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&lb);
    views_release(v, 2);
    Py_RETURN_NONE;
}
