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
     hypot, which numpy's np.hypot also takes from the C library.
   Buffers come in through the buffer protocol: no numpy headers are needed to build. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#ifndef SYNTHGEN_NATIVE_SOURCE
#define SYNTHGEN_NATIVE_SOURCE "unknown"
#endif

/* -- keyed draws (synthgen/draws.py: Draws.u) ------------------------------------------------ */

static inline double unit_of(uint64_t x)
{
    /* SplitMix64's finaliser, then the top 53 bits as a double in [0, 1) */
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static PyObject *unit(PyObject *self, PyObject *arg)
{
    /* the low 64 bits of any Python int, as `(x + C) & M64` reads them */
    unsigned long long x = PyLong_AsUnsignedLongLongMask(arg);
    if (x == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    return PyFloat_FromDouble(unit_of((uint64_t)x));
}

/* -- the draws themselves (synthgen/draws.py: Draws.u, uniform, integers, bernoulli, choice) ------ */

/* A draw's context, ctx = (key, factors, repeats, name keys): the Draws' 64-bit sample key, its
   recorded factors and repeat counts (dicts it owns) and draws._NAME_KEYS. Draws.u of `name`
   into *u, counting a repeat as Draws.u does: 0; 1: not here (the name has no cached key yet,
   or ctx is not such a tuple: the Python method runs and caches it); -1: an exception. */
static int ctx_unit(PyObject *ctx, PyObject *name, double *u)
{
    if (!PyTuple_CheckExact(ctx) || PyTuple_GET_SIZE(ctx) != 4 || !PyUnicode_CheckExact(name))
        return 1;
    PyObject *okey = PyTuple_GET_ITEM(ctx, 0), *factors = PyTuple_GET_ITEM(ctx, 1);
    PyObject *repeats = PyTuple_GET_ITEM(ctx, 2), *names = PyTuple_GET_ITEM(ctx, 3);
    if (!PyLong_CheckExact(okey) || !PyDict_CheckExact(factors) || !PyDict_CheckExact(repeats) ||
        !PyDict_CheckExact(names))
        return 1;
    PyObject *k = PyDict_GetItemWithError(names, name); /* borrowed */
    if (k == NULL)
        return PyErr_Occurred() ? -1 : 1;
    if (!PyLong_CheckExact(k))
        return 1;
    /* both are below 2**64 (BLAKE2b digests of 8 bytes): the mask reads them whole */
    uint64_t x = (uint64_t)PyLong_AsUnsignedLongLongMask(okey) ^ (uint64_t)PyLong_AsUnsignedLongLongMask(k);
    if (PyErr_Occurred())
        return -1;
    int seen = PyDict_Contains(factors, name);
    if (seen < 0)
        return -1;
    if (seen) { /* a repeated draw of one name: the r-th of its own stream, mix64(x) + r */
        PyObject *r = PyDict_GetItemWithError(repeats, name);
        long long rv = 0;
        if (r == NULL && PyErr_Occurred())
            return -1;
        if (r != NULL) {
            if (!PyLong_CheckExact(r))
                return 1;
            rv = PyLong_AsLongLong(r);
            if (rv == -1 && PyErr_Occurred())
                return -1;
        }
        PyObject *nr = PyLong_FromLongLong(rv + 1);
        if (nr == NULL)
            return -1;
        int bad = PyDict_SetItem(repeats, name, nr);
        Py_DECREF(nr);
        if (bad < 0)
            return -1;
        uint64_t z = x + 0x9E3779B97F4A7C15ULL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        x = (z ^ (z >> 31)) + (uint64_t)(rv + 1); /* Python's sum, read modulo 2**64 by unit */
    }
    *u = unit_of(x);
    return 0;
}

/* a float, or an int Python converts to the same double exactly (|v| <= 2**53): 0, else 1 */
static int plain_number(PyObject *o, double *v)
{
    if (PyFloat_CheckExact(o)) {
        *v = PyFloat_AS_DOUBLE(o);
        return 0;
    }
    if (PyLong_CheckExact(o)) {
        int over = 0;
        long long i = PyLong_AsLongLongAndOverflow(o, &over);
        if (over || (i == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 1;
        }
        if (i > 9007199254740992LL || i < -9007199254740992LL)
            return 1;
        *v = (double)i;
        return 0;
    }
    return 1;
}

static PyObject *record(PyObject *ctx, PyObject *name, PyObject *value)
{
    if (value != NULL && PyDict_SetItem(PyTuple_GET_ITEM(ctx, 1), name, value) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* Draws.uniform with no trace, bias or pins: float(lo + (hi - lo) * u) if hi > lo else float(lo) */
static PyObject *draw_uniform(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *ctx = args[0], *name = args[1];
    double lo, hi, u;
    if (plain_number(args[2], &lo) || plain_number(args[3], &hi))
        Py_RETURN_NOTIMPLEMENTED;
    /* (hi - lo) as Python forms it: two ints subtract exactly, then convert (the same double
       as converting each: both are exact and so is their difference below 2**54, up to the
       one rounding of the result, which the double subtraction also does once) */
    int r = ctx_unit(ctx, name, &u);
    if (r < 0)
        return NULL;
    if (r > 0)
        Py_RETURN_NOTIMPLEMENTED;
    double v = hi > lo ? lo + (hi - lo) * u : lo;
    return record(ctx, name, PyFloat_FromDouble(v));
}

/* Draws.bernoulli with no trace, bias or pins: u < p */
static PyObject *draw_bernoulli(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3)
        Py_RETURN_NOTIMPLEMENTED;
    double p, u;
    if (plain_number(args[2], &p))
        Py_RETURN_NOTIMPLEMENTED;
    int r = ctx_unit(args[0], args[1], &u);
    if (r < 0)
        return NULL;
    if (r > 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *v = u < p ? Py_True : Py_False;
    Py_INCREF(v);
    return record(args[0], args[1], v);
}

/* Draws.integers with no trace, bias or pins: min(hi, lo + int(u * (hi - lo + 1))), for
   0 <= lo <= hi < 2**63 or |lo|, |hi| < 2**52 (others: the Python method) and a span
   hi - lo + 1 that is a double exactly (so float() of it needs no rounding) */
static PyObject *draw_integers(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyLong_CheckExact(args[2]) || !PyLong_CheckExact(args[3]))
        Py_RETURN_NOTIMPLEMENTED;
    int o1 = 0, o2 = 0;
    long long lo = PyLong_AsLongLongAndOverflow(args[2], &o1), hi = PyLong_AsLongLongAndOverflow(args[3], &o2);
    if (o1 || o2 || PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    const long long small = 4503599627370496LL; /* 2**52 */
    if (hi < lo || !((lo >= 0) || (lo > -small && hi < small)))
        Py_RETURN_NOTIMPLEMENTED;
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1u; /* <= 2**63 */
    double n = (double)span;
    if (n >= 18446744073709551616.0 || (uint64_t)n != span)
        Py_RETURN_NOTIMPLEMENTED;
    double u;
    int r = ctx_unit(args[0], args[1], &u);
    if (r < 0)
        return NULL;
    if (r > 0)
        Py_RETURN_NOTIMPLEMENTED;
    uint64_t off = (uint64_t)(u * n); /* int() truncates; u * n >= 0 and at most n */
    uint64_t v = (uint64_t)lo + off;  /* modulo 2**64: lo + off for lo < 0 too */
    long long value = off > (uint64_t)(hi - lo) ? hi : (long long)v;
    return record(args[0], args[1], PyLong_FromLongLong(value));
}

/* Draws.choice of equal odds with no trace, bias or pins: options[min(int(u * n), n - 1)] */
static PyObject *draw_choice(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *opts = args[2];
    Py_ssize_t n;
    if (PyList_CheckExact(opts))
        n = PyList_GET_SIZE(opts);
    else if (PyTuple_CheckExact(opts))
        n = PyTuple_GET_SIZE(opts);
    else
        Py_RETURN_NOTIMPLEMENTED;
    if (n == 0 || n > 9007199254740992LL)
        Py_RETURN_NOTIMPLEMENTED;
    double u;
    int r = ctx_unit(args[0], args[1], &u);
    if (r < 0)
        return NULL;
    if (r > 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t i = (Py_ssize_t)(u * (double)n);
    if (i > n - 1)
        i = n - 1;
    PyObject *v = PyList_CheckExact(opts) ? PyList_GET_ITEM(opts, i) : PyTuple_GET_ITEM(opts, i);
    Py_INCREF(v);
    return record(args[0], args[1], v);
}

/* Draws.u: the uniform behind the next draw of `name` (repeats counted) */
static PyObject *draw_u(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double u;
    if (nargs != 2)
        Py_RETURN_NOTIMPLEMENTED;
    int r = ctx_unit(args[0], args[1], &u);
    if (r < 0)
        return NULL;
    if (r > 0)
        Py_RETURN_NOTIMPLEMENTED;
    return PyFloat_FromDouble(u);
}

/* -- corpus walks (synthgen/renderers/corpus.py: permute) ----------------------------------------- */

static inline uint64_t mix64_of(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* corpus.permute(i, n, key) for 0 <= i < n < 2**62 and 0 <= key < 2**64: the same 4-round
   Feistel network with cycle walking, in 64-bit arithmetic (the Python masks every product to
   64 bits, as unsigned C arithmetic wraps); NotImplemented for other input */
static PyObject *permute(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyLong_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2]))
        Py_RETURN_NOTIMPLEMENTED;
    int o1 = 0, o2 = 0;
    long long i = PyLong_AsLongLongAndOverflow(args[0], &o1), n = PyLong_AsLongLongAndOverflow(args[1], &o2);
    if (o1 || o2 || PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    unsigned long long key = PyLong_AsUnsignedLongLong(args[2]);
    if (key == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (i < 0 || i >= n || n >= (1LL << 62))
        Py_RETURN_NOTIMPLEMENTED; /* the Python raises for an index out of range */
    if (n <= 1)
        return PyLong_FromLong(0);
    int bits = 2;
    while (bits < 64 && ((unsigned long long)(n - 1) >> bits) != 0)
        bits++; /* max(2, (n - 1).bit_length()) */
    bits += bits & 1;
    int half = bits / 2;
    uint64_t mask = (1ULL << half) - 1, k[4];
    for (int r = 0; r < 4; r++)
        k[r] = mix64_of((uint64_t)key ^ (uint64_t)(r + 1));
    uint64_t x = (uint64_t)i;
    for (;;) {
        uint64_t left = x >> half, right = x & mask;
        for (int r = 0; r < 4; r++) {
            uint64_t f = (((right ^ k[r]) * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
            uint64_t t = right;
            right = left ^ f;
            left = t;
        }
        x = (left << half) | right;
        if (x < (uint64_t)n)
            return PyLong_FromLongLong((long long)x);
    }
}

/* -- numpy's SeedSequence (synthgen/draws.py: Draws.rng_for) -------------------------------------- */

/* numpy.random.SeedSequence(seed).generate_state(4, np.uint64) for 0 <= seed < 2**64, as
   numpy's bit_generator.pyx computes it (pool of 4 uint32 words, hashmix / mix); the state a
   PCG64 seeded with `seed` starts from. Built here in ~0.1 us where SeedSequence costs ~7 us
   and default_rng ~10 us; tests/test_native.py compares the generators' outputs with numpy's. */
#define SS_INIT_A 0x43b0d7e5u
#define SS_MULT_A 0x931e8875u
#define SS_INIT_B 0x8b51f9ddu
#define SS_MULT_B 0x58f38dedu
#define SS_MIX_L 0xca01f9ddu
#define SS_MIX_R 0x4973f715u
#define SS_XSHIFT 16

static inline uint32_t ss_hashmix(uint32_t value, uint32_t *hash_const)
{
    value ^= *hash_const;
    *hash_const *= SS_MULT_A;
    value *= *hash_const;
    value ^= value >> SS_XSHIFT;
    return value;
}

static inline uint32_t ss_mix(uint32_t x, uint32_t y)
{
    uint32_t r = SS_MIX_L * x - SS_MIX_R * y;
    return r ^ (r >> SS_XSHIFT);
}

static PyObject *seed_words(PyObject *self, PyObject *arg)
{
    if (!PyLong_Check(arg))
        Py_RETURN_NOTIMPLEMENTED;
    unsigned long long seed = PyLong_AsUnsignedLongLong(arg);
    if (seed == (unsigned long long)-1 && PyErr_Occurred()) { /* negative or >= 2**64 */
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    /* the seed as little-endian uint32 words, as few as hold it (0 is one word) */
    uint32_t ent[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    int n_ent = ent[1] ? 2 : 1;
    uint32_t pool[4], hc = SS_INIT_A;
    for (int i = 0; i < 4; i++)
        pool[i] = ss_hashmix(i < n_ent ? ent[i] : 0u, &hc);
    for (int i_src = 0; i_src < 4; i_src++)
        for (int i_dst = 0; i_dst < 4; i_dst++)
            if (i_src != i_dst)
                pool[i_dst] = ss_mix(pool[i_dst], ss_hashmix(pool[i_src], &hc));
    unsigned char out[32];
    uint32_t hb = SS_INIT_B;
    for (int i = 0; i < 8; i++) {
        uint32_t v = pool[i % 4] ^ hb;
        hb *= SS_MULT_B;
        v *= hb;
        v ^= v >> SS_XSHIFT;
        out[4 * i] = (unsigned char)v; /* little-endian, whatever the machine */
        out[4 * i + 1] = (unsigned char)(v >> 8);
        out[4 * i + 2] = (unsigned char)(v >> 16);
        out[4 * i + 3] = (unsigned char)(v >> 24);
    }
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

/* -- the elastic field's forward map (synthgen/renderers/linestyles.py: forward) ------------------- */

/* A C-contiguous buffer of `fmt` ("d" float64, "f" float32) holding `n` items; 0 on success,
   -1 (no exception) otherwise. */
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

/* forward()'s exact steps: q <- p - bilinear(f, q - 0.5), at most `iters` times, stopping after
   the first step that moves no coordinate by `tol` or more; numpy's float64 operations in
   numpy's order (clip, truncation to int, (double) of the float32 field, products and sums as
   written in linestyles.forward). q, p: m x 2 float64 (q updated in place); f: H x W x 2
   float32. NotImplemented (q untouched) for other buffers or a coordinate that is not finite. */
static PyObject *forward_exact(PyObject *self, PyObject *args)
{
    PyObject *oq, *op, *of;
    double tol;
    int iters;
    Py_ssize_t H, W;
    if (!PyArg_ParseTuple(args, "OOOnndi", &oq, &op, &of, &H, &W, &tol, &iters))
        return NULL;
    Py_buffer bq, bp, bf;
    if (typed_get(oq, &bq, "d", 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (typed_get(op, &bp, "d", 0) < 0) {
        PyBuffer_Release(&bq);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (typed_get(of, &bf, "f", 0) < 0) {
        PyBuffer_Release(&bq);
        PyBuffer_Release(&bp);
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_ssize_t m = bq.len / (2 * (Py_ssize_t)sizeof(double));
    PyObject *result = Py_NotImplemented;
    double *q = (double *)bq.buf, *nw = NULL;
    const double *p = (const double *)bp.buf;
    const float *f = (const float *)bf.buf;
    if (bq.len != bp.len || bq.len % (2 * sizeof(double)) || m == 0 || H < 2 || W < 2 ||
        bf.len != H * W * 2 * (Py_ssize_t)sizeof(float))
        goto done;
    for (Py_ssize_t k = 0; k < 2 * m; k++)
        if (!isfinite(q[k]) || !isfinite(p[k]))
            goto done;
    nw = PyMem_Malloc(sizeof(double) * 2 * (m ? m : 1));
    if (nw == NULL) {
        result = PyErr_NoMemory();
        goto done;
    }
    {
        const double xmax = (double)W - 1.001, ymax = (double)H - 1.001;
        for (int it = 0; it < iters; it++) {
            double moved = 0.0;
            for (Py_ssize_t k = 0; k < m; k++) {
                double x = q[2 * k] - 0.5, y = q[2 * k + 1] - 0.5;
                x = x < 0.0 ? 0.0 : x; /* np.clip(v, 0, hi): maximum, then minimum */
                x = x > xmax ? xmax : x;
                y = y < 0.0 ? 0.0 : y;
                y = y > ymax ? ymax : y;
                Py_ssize_t x0 = (Py_ssize_t)x, y0 = (Py_ssize_t)y; /* astype(intp): truncation */
                double fx = x - (double)x0, fy = y - (double)y0;
                const float *f00 = f + 2 * (y0 * W + x0), *f01 = f00 + 2, *f10 = f00 + 2 * W, *f11 = f10 + 2;
                for (int c = 0; c < 2; c++) {
                    double top = (double)f00[c] * (1.0 - fx) + (double)f01[c] * fx;
                    double bot = (double)f10[c] * (1.0 - fx) + (double)f11[c] * fx;
                    double v = p[2 * k + c] - (top * (1.0 - fy) + bot * fy);
                    double dv = fabs(v - q[2 * k + c]);
                    if (dv > moved)
                        moved = dv;
                    nw[2 * k + c] = v;
                }
            }
            memcpy(q, nw, sizeof(double) * 2 * m);
            if (moved < tol)
                break;
        }
    }
    result = Py_None;
done:
    PyMem_Free(nw);
    PyBuffer_Release(&bq);
    PyBuffer_Release(&bp);
    PyBuffer_Release(&bf);
    Py_XINCREF(result);
    return result;
}

/* follow_quads after its forward map: each quad's 4 mapped corners (every `per_edge`-th point of
   its ring), its edges pushed out along their normals to hold the ring and `holds`, the pushed
   edges intersected; numpy's float64 operations in its order (hypot is the C library's, as
   numpy's; its two-term einsum sums are a * b + c * d, which numpy computes without a fused
   multiply-add here: tests/test_native.py compares the whole of follow_quads). m: n*4*per_edge
   x 2 float64, holds: h x 2 float64 or None, out: n x 4 x 2 float32. */
static PyObject *follow_tail(PyObject *self, PyObject *args)
{
    PyObject *om, *oh, *oout;
    Py_ssize_t per_edge;
    if (!PyArg_ParseTuple(args, "OOnO", &om, &oh, &per_edge, &oout))
        return NULL;
    Py_buffer bm, bh, bo;
    int has_h = oh != Py_None;
    if (typed_get(om, &bm, "d", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (has_h && typed_get(oh, &bh, "d", 0) < 0) {
        PyBuffer_Release(&bm);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (typed_get(oout, &bo, "f", 1) < 0) {
        PyBuffer_Release(&bm);
        if (has_h)
            PyBuffer_Release(&bh);
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_ssize_t per_quad = 4 * per_edge, n = bo.len / (8 * (Py_ssize_t)sizeof(float));
    Py_ssize_t nh = has_h ? bh.len / (2 * (Py_ssize_t)sizeof(double)) : 0;
    PyObject *result = Py_NotImplemented;
    if (per_edge < 1 || n < 1 || bo.len != n * 8 * (Py_ssize_t)sizeof(float) ||
        bm.len != n * per_quad * 2 * (Py_ssize_t)sizeof(double) || (has_h && bh.len % (2 * sizeof(double))))
        goto done;
    {
        static const int NEXT[4] = {1, 2, 3, 0}, PREV[4] = {3, 0, 1, 2};
        const double *m = (const double *)bm.buf, *h = has_h ? (const double *)bh.buf : NULL;
        float *out = (float *)bo.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            const double *mi = m + 2 * per_quad * i;
            double c[4][2], e[4][2], nrm[4][2], p[4][2];
            for (int j = 0; j < 4; j++) {
                c[j][0] = mi[2 * per_edge * j];
                c[j][1] = mi[2 * per_edge * j + 1];
            }
            for (int j = 0; j < 4; j++) {
                e[j][0] = c[NEXT[j]][0] - c[j][0];
                e[j][1] = c[NEXT[j]][1] - c[j][1];
                double ln = hypot(e[j][0], e[j][1]);
                ln = ln > 1e-9 ? ln : 1e-9; /* np.maximum(hypot, 1e-9) */
                nrm[j][0] = e[j][1] / ln;
                nrm[j][1] = -e[j][0] / ln;
            }
            for (int j = 0; j < 4; j++) {
                double base = c[j][0] * nrm[j][0] + c[j][1] * nrm[j][1], best = -INFINITY;
                for (Py_ssize_t k = 0; k < per_quad; k++) {
                    double o = (mi[2 * k] * nrm[j][0] + mi[2 * k + 1] * nrm[j][1]) - base;
                    if (o > best || k == 0)
                        best = o;
                }
                for (Py_ssize_t k = 0; k < nh; k++) {
                    double o = (h[2 * k] * nrm[j][0] + h[2 * k + 1] * nrm[j][1]) - base;
                    if (o > best)
                        best = o;
                }
                double push = best > 0.0 ? best : 0.0; /* np.maximum(max, 0.0) */
                p[j][0] = c[j][0] + nrm[j][0] * push;
                p[j][1] = c[j][1] + nrm[j][1] * push;
            }
            for (int j = 0; j < 4; j++) {
                const double *p0 = p[PREV[j]], *e0 = e[PREV[j]];
                double den = e0[0] * e[j][1] - e0[1] * e[j][0];
                double num = (p[j][0] - p0[0]) * e[j][1] - (p[j][1] - p0[1]) * e[j][0];
                double ox, oy;
                if (fabs(den) > 1e-12) {
                    double sv = num / den;
                    ox = p0[0] + sv * e0[0];
                    oy = p0[1] + sv * e0[1];
                } else {
                    ox = p[j][0];
                    oy = p[j][1];
                }
                out[8 * i + 2 * j] = (float)ox;
                out[8 * i + 2 * j + 1] = (float)oy;
            }
        }
    }
    result = Py_None;
done:
    PyBuffer_Release(&bm);
    if (has_h)
        PyBuffer_Release(&bh);
    PyBuffer_Release(&bo);
    Py_INCREF(result);
    return result;
}

/* -- label coordinates (synthgen/core.py: label_round, _instances_json) ------------------------------ */

/* label_round(parts, out64, out32) -> small: every value of the float32 / float64 arrays in
   `parts`, in order, rounded as np.round(x.astype(float64), 2) rounds (rint(x * 100) / 100,
   numpy's `around` for 2 decimals) into out64 (float64) and, converted, into out32 (float32),
   both holding exactly as many values; small: every |value| is below F32_EXACT (16384) and
   none is NaN, what _instances_json's float32 test asks. NotImplemented (nothing written
   that matters) for other arrays. */
static PyObject *label_round(PyObject *self, PyObject *args)
{
    PyObject *parts, *o64, *o32;
    if (!PyArg_ParseTuple(args, "OOO", &parts, &o64, &o32) || !PyList_CheckExact(parts)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer b64, b32;
    if (typed_get(o64, &b64, "d", 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (typed_get(o32, &b32, "f", 1) < 0) {
        PyBuffer_Release(&b64);
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *out = NULL;
    Py_ssize_t total = b64.len / 8, k = 0;
    double *d64 = (double *)b64.buf;
    float *d32 = (float *)b32.buf;
    double mx = 0.0;
    int nan = 0;
    if (b32.len / 4 != total)
        goto refuse;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(parts); j++) {
        Py_buffer bp;
        if (PyObject_GetBuffer(PyList_GET_ITEM(parts, j), &bp, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
            PyErr_Clear();
            goto refuse;
        }
        int is32 = bp.format && strcmp(bp.format, "f") == 0, is64 = bp.format && strcmp(bp.format, "d") == 0;
        Py_ssize_t n = bp.len / (bp.itemsize ? bp.itemsize : 1);
        if (!(is32 || is64) || k + n > total) {
            PyBuffer_Release(&bp);
            goto refuse;
        }
        for (Py_ssize_t i = 0; i < n; i++, k++) {
            double v = is32 ? (double)((const float *)bp.buf)[i] : ((const double *)bp.buf)[i];
            double r = rint(v * 100.0) / 100.0;
            d64[k] = r;
            d32[k] = (float)r;
            double a = fabs(r);
            if (a != a)
                nan = 1;
            else if (a > mx)
                mx = a;
        }
        PyBuffer_Release(&bp);
    }
    if (k != total)
        goto refuse;
    out = PyBool_FromLong(total > 0 && !nan && mx < 16384.0);
    goto done;
refuse:
    out = Py_NotImplemented;
    Py_INCREF(out);
done:
    PyBuffer_Release(&b64);
    PyBuffer_Release(&b32);
    return out;
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

/* -- EAST score maps (synthgen/labels/east.py: _raster, score_map) ------------------------------- */

/* One map quad (4 x 2 float64 map coordinates, finite) into the h x w uint8 map: out[i, j] = 1
   for every cell _raster lists for it (the cell's point (j, i) inside the quad: even-odd, edges
   half-open in y). The same float64 operations as _raster: edge d = q[k+1] - q[k], rows
   ceil(min y) .. ceil(max y) clamped to [0, h), x = (Y - ya) * (dx / (dy or 1)) + xa where
   ya <= Y < ya + dy (in either order), crossings sorted, ceiled, clipped to [0, w], spans
   [x0, x1) and [x2, x3). */
static void raster_quad(const double *q, unsigned char *out, Py_ssize_t h, Py_ssize_t w)
{
    double ylo[4], yhi[4], ya[4], xa[4], sl[4];
    for (int k = 0; k < 4; k++) {
        int nk = (k + 1) & 3;
        double dx = q[2 * nk] - q[2 * k], dy = q[2 * nk + 1] - q[2 * k + 1];
        ya[k] = q[2 * k + 1];
        xa[k] = q[2 * k];
        double yb = ya[k] + dy;
        ylo[k] = ya[k] < yb ? ya[k] : yb;
        yhi[k] = ya[k] > yb ? ya[k] : yb;
        sl[k] = dx / (dy + (dy == 0 ? 1.0 : 0.0));
    }
    double ymin = fmin(fmin(ya[0], ya[1]), fmin(ya[2], ya[3])), ymax = fmax(fmax(ya[0], ya[1]), fmax(ya[2], ya[3]));
    double e0 = ceil(ymin), e1 = ceil(ymax);
    e0 = e0 > 0 ? e0 : 0.0;
    e1 = e1 > 0 ? e1 : 0.0;
    long long r0 = e0 < (double)h ? (long long)e0 : (long long)h, r1 = e1 < (double)h ? (long long)e1 : (long long)h;
    for (long long row = r0; row < r1; row++) {
        double Y = (double)row, X[4];
        for (int k = 0; k < 4; k++)
            X[k] = (Y < ylo[k] || Y >= yhi[k]) ? INFINITY : (Y - ya[k]) * sl[k] + xa[k];
        for (int a = 1; a < 4; a++) { /* ascending, inf last */
            double v = X[a];
            int b = a - 1;
            while (b >= 0 && X[b] > v) {
                X[b + 1] = X[b];
                b--;
            }
            X[b + 1] = v;
        }
        long long J[4];
        for (int k = 0; k < 4; k++) {
            double c = ceil(X[k]);
            c = c > 0 ? c : 0.0; /* np.clip(X, 0, w) */
            c = c < (double)w ? c : (double)w;
            J[k] = (long long)c;
        }
        unsigned char *r = out + row * w;
        for (long long j = J[0]; j < J[1]; j++)
            r[j] = 1;
        for (long long j = J[2]; j < J[3]; j++)
            r[j] = 1;
    }
}

/* east._shrink of one quad (4 x 2 float64, in place): r_k = r * min(|p_k p_k+1|, |p_k p_k-1|);
   the longer pair of opposite edges (strictly) first, each vertex moved toward the other end
   of its edge in that pair by r_k, then the other pair from the moved vertices; numpy's float64
   operations in its order (squares, sums, sqrt, max(len, 1e-12), step / len, products, sums). */
static void shrink_quad(double *q, double r)
{
    static const int next[4] = {1, 2, 3, 0}, prev[4] = {3, 0, 1, 2}, part_a[4] = {1, 0, 3, 2}, part_b[4] = {3, 2, 1, 0};
    double elen[4], step[4];
    for (int k = 0; k < 4; k++) {
        double dx = q[2 * next[k]] - q[2 * k], dy = q[2 * next[k] + 1] - q[2 * k + 1];
        dx = dx * dx;
        dy = dy * dy;
        elen[k] = sqrt(dx + dy);
    }
    for (int k = 0; k < 4; k++) {
        double a = elen[k], b = elen[prev[k]];
        step[k] = (a < b ? a : b) * r; /* np.minimum, then *= r */
    }
    int first = (elen[0] + elen[2]) > (elen[1] + elen[3]);
    for (int pass = 0; pass < 2; pass++) {
        const int *part = (pass == 0) == (first != 0) ? part_a : part_b;
        double src[8], d[8];
        memcpy(src, q, sizeof(src));
        for (int k = 0; k < 4; k++) {
            d[2 * k] = src[2 * part[k]] - q[2 * k];
            d[2 * k + 1] = src[2 * part[k] + 1] - q[2 * k + 1];
        }
        for (int k = 0; k < 4; k++) {
            double a = d[2 * k] * d[2 * k], b = d[2 * k + 1] * d[2 * k + 1];
            double ln = sqrt(a + b);
            ln = ln >= 1e-12 ? ln : 1e-12; /* np.maximum (no NaN: finite input) */
            double f = step[k] / ln;
            q[2 * k] = q[2 * k] + d[2 * k] * f;
            q[2 * k + 1] = q[2 * k + 1] + d[2 * k + 1] * f;
        }
    }
}

/* score_quads(q, r, stride, out) -> None | NotImplemented: east.score_map's shrink (r), its move
   to map coordinates ((q - CELL_OFFSET) / stride) and _raster's cells, set to 1 in the h x w
   uint8 out; q: N x 4 x 2 float64 input quads (read only), every value finite (else
   NotImplemented: the numpy path decides). */
static PyObject *score_quads(PyObject *self, PyObject *args)
{
    PyObject *oq, *oo;
    double r, stride;
    if (!PyArg_ParseTuple(args, "OddO", &oq, &r, &stride, &oo)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer bq, bo;
    if (typed_get(oq, &bq, "d", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (PyObject_GetBuffer(oo, &bo, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        PyErr_Clear();
        PyBuffer_Release(&bq);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (bq.len % 64 != 0 || bo.ndim != 2 || bo.itemsize != 1 || (bo.format && strcmp(bo.format, "B") != 0)) {
        PyBuffer_Release(&bq);
        PyBuffer_Release(&bo);
        Py_RETURN_NOTIMPLEMENTED;
    }
    const double *Q = (const double *)bq.buf;
    Py_ssize_t n = bq.len / 64;
    for (Py_ssize_t i = 0; i < 8 * n; i++) {
        if (!isfinite(Q[i])) {
            PyBuffer_Release(&bq);
            PyBuffer_Release(&bo);
            Py_RETURN_NOTIMPLEMENTED;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double q[8];
        memcpy(q, Q + 8 * i, sizeof(q));
        shrink_quad(q, r);
        for (int k = 0; k < 8; k++)
            q[k] = (q[k] - 0.5) / stride; /* CELL_OFFSET */
        raster_quad(q, (unsigned char *)bo.buf, bo.shape[0], bo.shape[1]);
    }
    PyBuffer_Release(&bq);
    PyBuffer_Release(&bo);
    Py_RETURN_NONE;
}

/* -- elastic bends (synthgen/renderers/linestyles.py: elastic_field) ---------------------------------- */

/* elastic_mix(rx, ry, wave, s, fa, fb, dx, dy): elastic_field's last two lines, dy = wave[x] +
   float32(fa) * ry and dx = float32(fb) * rx + s[y] (in s's precision: float64 when numpy
   promotes s to it, float32 otherwise), both stored as float32; rx, ry, dx, dy H x W float32,
   wave (W,) float32, s (H,) float32 or float64, all C-contiguous. None, or NotImplemented. */
static PyObject *elastic_mix(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8 || !PyFloat_CheckExact(args[4]) || !PyFloat_CheckExact(args[5]))
        Py_RETURN_NOTIMPLEMENTED;
    float fa = (float)PyFloat_AS_DOUBLE(args[4]), fb = (float)PyFloat_AS_DOUBLE(args[5]);
    /* rx, ry, wave, s, dx, dy */
    PyObject *arr[6] = {args[0], args[1], args[2], args[3], args[6], args[7]};
    Py_buffer b[6];
    int got = 0, s64 = 0;
    PyObject *out = Py_NotImplemented;
    for (; got < 6; got++) {
        if (typed_get(arr[got], &b[got], "f", got >= 4) == 0)
            continue;
        if (got == 3 && typed_get(arr[got], &b[got], "d", 0) == 0) { /* s in float64 */
            s64 = 1;
            continue;
        }
        goto done;
    }
    Py_ssize_t W = b[2].len / 4, H = b[3].len / (s64 ? 8 : 4);
    if (b[0].len != 4 * W * H || b[1].len != 4 * W * H || b[4].len != 4 * W * H || b[5].len != 4 * W * H)
        goto done;
    const float *rx = b[0].buf, *ry = b[1].buf, *wave = b[2].buf;
    float *dx = b[4].buf, *dy = b[5].buf;
    for (Py_ssize_t y = 0; y < H; y++) {
        for (Py_ssize_t x = 0; x < W; x++) {
            Py_ssize_t i = y * W + x;
            dy[i] = wave[x] + fa * ry[i];
            float p = fb * rx[i];
            dx[i] = s64 ? (float)((double)p + ((const double *)b[3].buf)[y]) : p + ((const float *)b[3].buf)[y];
        }
    }
    out = Py_None;
done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(&b[k]);
    Py_INCREF(out);
    return out;
}

/* -- displacement maps (synthgen/renderers/linestyles.py: remap, warp_displaced) ------------------------ */

/* grid_plus(dx, dy, ox, out_x, out_y, out_xy): every pixel's grid point plus its displacement,
   (x + ox) + dx and (y + ox) + dy. float32 grids (ox = 0: remap's meshgrid + d, in float32) into
   out_x and out_y (H x W float32), or float64 (ox = 0.5: warp_displaced's pixel centres + d, in
   float64) into out_xy (H x W x 2 float64, interleaved as its np.stack). dx, dy: H x W float32.
   Pass None for the outputs not wanted. None, or NotImplemented. */
static PyObject *grid_plus(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyFloat_CheckExact(args[2]))
        Py_RETURN_NOTIMPLEMENTED;
    double ox = PyFloat_AS_DOUBLE(args[2]);
    int f64 = args[5] != Py_None;
    Py_buffer bx, by, o1, o2;
    int got = 0;
    PyObject *out = Py_NotImplemented;
    if (typed_get(args[0], &bx, "f", 0) < 0)
        goto done;
    got = 1;
    if (typed_get(args[1], &by, "f", 0) < 0)
        goto done;
    got = 2;
    if (f64 ? typed_get(args[5], &o1, "d", 1) < 0 : typed_get(args[3], &o1, "f", 1) < 0)
        goto done;
    got = 3;
    if (!f64) {
        if (typed_get(args[4], &o2, "f", 1) < 0)
            goto done;
        got = 4;
    }
    if (bx.ndim != 2 || by.len != bx.len || o1.len != (f64 ? 4 : 1) * bx.len || (!f64 && o2.len != bx.len))
        goto done;
    Py_ssize_t H = bx.shape[0], W = bx.shape[1];
    const float *dx = bx.buf, *dy = by.buf;
    for (Py_ssize_t y = 0; y < H; y++) {
        for (Py_ssize_t x = 0; x < W; x++) {
            Py_ssize_t i = y * W + x;
            if (f64) {
                ((double *)o1.buf)[2 * i] = ((double)x + ox) + (double)dx[i];
                ((double *)o1.buf)[2 * i + 1] = ((double)y + ox) + (double)dy[i];
            } else {
                ((float *)o1.buf)[i] = ((float)x + (float)ox) + dx[i];
                ((float *)o2.buf)[i] = ((float)y + (float)ox) + dy[i];
            }
        }
    }
    out = Py_None;
done:
    if (got >= 4)
        PyBuffer_Release(&o2);
    if (got >= 3)
        PyBuffer_Release(&o1);
    if (got >= 2)
        PyBuffer_Release(&by);
    if (got >= 1)
        PyBuffer_Release(&bx);
    Py_INCREF(out);
    return out;
}

/* split_maps(src, mx, my): warp_displaced's remap maps, float32(src[..., 0] - 0.5) and
   float32(src[..., 1] - 0.5), from the H x W x 2 float64 points perspectiveTransform gave.
   None, or NotImplemented. */
static PyObject *split_maps(PyObject *self, PyObject *args)
{
    PyObject *os, *ox, *oy;
    if (!PyArg_ParseTuple(args, "OOO", &os, &ox, &oy)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer bs, bx, by;
    if (typed_get(os, &bs, "d", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (typed_get(ox, &bx, "f", 1) < 0) {
        PyBuffer_Release(&bs);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (typed_get(oy, &by, "f", 1) < 0) {
        PyBuffer_Release(&bs);
        PyBuffer_Release(&bx);
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *out = Py_None;
    Py_ssize_t n = bx.len / 4;
    if (by.len != bx.len || bs.len != 16 * n) {
        out = Py_NotImplemented;
    } else {
        const double *src = bs.buf;
        float *mx = bx.buf, *my = by.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            mx[i] = (float)(src[2 * i] - 0.5);
            my[i] = (float)(src[2 * i + 1] - 0.5);
        }
    }
    PyBuffer_Release(&bs);
    PyBuffer_Release(&bx);
    PyBuffer_Release(&by);
    Py_INCREF(out);
    return out;
}

/* -- the augment stage's point mapping (synthgen/augment/geometric.py: _bilinear) ------------------ */

/* bilinear(f, p, out): geometric._bilinear, the H x W float32 map f at n float64 points p (n x 2)
   into out (n float64): x0 = clip(int(floor(x)), 0, W - 2) (and y0 alike), fx = x - x0, and
   f00 (1 - fx)(1 - fy) + f01 fx (1 - fy) + f10 (1 - fx) fy + f11 fx fy in numpy's order.
   NotImplemented for other arrays, a map under 2 x 2, or a point that is not finite. */
static PyObject *bilinear(PyObject *self, PyObject *args)
{
    PyObject *of, *op, *oo;
    if (!PyArg_ParseTuple(args, "OOO", &of, &op, &oo)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer bf, bp, bo;
    if (typed_get(of, &bf, "f", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (typed_get(op, &bp, "d", 0) < 0) {
        PyBuffer_Release(&bf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (typed_get(oo, &bo, "d", 1) < 0) {
        PyBuffer_Release(&bf);
        PyBuffer_Release(&bp);
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *out = Py_None;
    Py_ssize_t n = bo.len / 8;
    if (bf.ndim != 2 || bf.shape[0] < 2 || bf.shape[1] < 2 || bp.len != 16 * n) {
        out = Py_NotImplemented;
    } else {
        Py_ssize_t H = bf.shape[0], W = bf.shape[1];
        const float *f = bf.buf;
        const double *p = bp.buf;
        double *o = bo.buf;
        for (Py_ssize_t i = 0; i < n; i++)
            if (!isfinite(p[2 * i]) || !isfinite(p[2 * i + 1]) || fabs(p[2 * i]) > 1e15 || fabs(p[2 * i + 1]) > 1e15) {
                out = Py_NotImplemented;
                break;
            }
        if (out == Py_None) {
            for (Py_ssize_t i = 0; i < n; i++) {
                double x = p[2 * i], y = p[2 * i + 1];
                long long x0 = (long long)floor(x), y0 = (long long)floor(y);
                x0 = x0 < 0 ? 0 : x0; /* np.clip: maximum, then minimum */
                x0 = x0 > W - 2 ? W - 2 : x0;
                y0 = y0 < 0 ? 0 : y0;
                y0 = y0 > H - 2 ? H - 2 : y0;
                double fx = x - (double)x0, fy = y - (double)y0;
                double f00 = f[y0 * W + x0], f01 = f[y0 * W + x0 + 1], f10 = f[(y0 + 1) * W + x0],
                       f11 = f[(y0 + 1) * W + x0 + 1];
                o[i] = ((f00 * (1 - fx) * (1 - fy) + f01 * fx * (1 - fy)) + f10 * (1 - fx) * fy) + f11 * fx * fy;
            }
        }
    }
    PyBuffer_Release(&bf);
    PyBuffer_Release(&bp);
    PyBuffer_Release(&bo);
    Py_INCREF(out);
    return out;
}

/* -- the glyph atlas's index (synthgen/renderers/glyphs.py: _Atlas._load) ---------------------------- */

static const uint32_t *sort_keys; /* qsort has no context argument: _load runs under the GIL */

static int by_code_point(const void *a, const void *b)
{
    Py_ssize_t i = *(const Py_ssize_t *)a, j = *(const Py_ssize_t *)b;
    uint32_t x = sort_keys[i], y = sort_keys[j];
    return x < y ? -1 : x > y ? 1 : (i > j) - (i < j); /* ties in entry order: a stable sort */
}

/* atlas_index(cps, off, geom, crc, edges, adv, out_cps, out_recs, out_advs) -> None | True |
   NotImplemented: _Atlas._load's compact index. The entry's arrays (cps uint32 (n,), off int64
   (n,), geom int32 (n, 4), crc uint32 (n,), edges uint8 (n, 4), adv float64 (n,)) sorted by code
   point (stably), into out_cps uint32 (n,), out_recs int32 (n, 7: off, x0, y0, w, h, the CRC's
   and the 4 edge bytes' (little-endian) 32 bits as int32) and out_advs float64 (n,). True: an
   offset past int32 (the caller's int64 path); NotImplemented: other arrays. */
static PyObject *atlas_index(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    static const char *fmt[9] = {"I", "l", "i", "I", "B", "d", "I", "i", "d"};
    if (nargs != 9)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer b[9];
    int got = 0;
    PyObject *out = Py_NotImplemented;
    Py_ssize_t *order = NULL;
    for (; got < 9; got++) {
        if (typed_get(args[got], &b[got], fmt[got], got >= 6) < 0) {
            if (got == 1 && typed_get(args[1], &b[1], "q", 0) == 0) /* int64 spelled "q" */
                continue;
            goto done;
        }
    }
    Py_ssize_t n = b[0].len / 4;
    if (b[1].len != 8 * n || b[2].len != 16 * n || b[3].len != 4 * n || b[4].len != 4 * n || b[5].len != 8 * n ||
        b[6].len != 4 * n || b[7].len != 28 * n || b[8].len != 8 * n)
        goto done;
    const uint32_t *cps = b[0].buf, *crc = b[3].buf;
    const int64_t *off = b[1].buf;
    const int32_t *geom = b[2].buf;
    const unsigned char *edges = b[4].buf;
    const double *adv = b[5].buf;
    long long omax = 0, amax = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        long long area = (long long)geom[4 * i + 2] * (long long)geom[4 * i + 3];
        if (i == 0 || off[i] > omax)
            omax = off[i];
        if (i == 0 || area > amax)
            amax = area;
    }
    if (n && omax + amax >= 2147483648LL) {
        out = Py_True;
        goto done;
    }
    order = PyMem_Malloc(sizeof(Py_ssize_t) * (n ? n : 1));
    if (order == NULL) {
        out = NULL;
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        order[i] = i;
    sort_keys = cps;
    qsort(order, (size_t)n, sizeof(Py_ssize_t), by_code_point);
    uint32_t *ocp = b[6].buf;
    int32_t *rec = b[7].buf;
    double *oadv = b[8].buf;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t i = order[k];
        const unsigned char *e = edges + 4 * i;
        ocp[k] = cps[i];
        rec[7 * k] = (int32_t)off[i];
        for (int j = 0; j < 4; j++)
            rec[7 * k + 1 + j] = geom[4 * i + j];
        rec[7 * k + 5] = (int32_t)crc[i];
        rec[7 * k + 6] = (int32_t)((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24);
        oadv[k] = adv[i];
    }
    out = Py_None;
done:
    PyMem_Free(order);
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&b[i]);
    Py_XINCREF(out);
    return out;
}

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
    View a, b;
    if (view_get(os, &a, 1, 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (view_get(od, &b, 1, 1) < 0) {
        PyBuffer_Release(&a.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
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
    PyBuffer_Release(&a.buf);
    PyBuffer_Release(&b.buf);
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
    View g, r, f;
    if (view_get(og, &g, 1, 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (view_get(ogr, &r, 1, 0) < 0) {
        PyBuffer_Release(&g.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (view_get(of, &f, 1, 0) < 0) {
        PyBuffer_Release(&g.buf);
        PyBuffer_Release(&r.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *out;
    if (r.h != f.h || r.w != f.w || kx < 0 || ky < 0 || kx + r.w > g.w || ky + r.h > g.h) {
        out = Py_NotImplemented;
    } else {
        int hit = 0;
        for (Py_ssize_t y = 0; y < r.h && !hit; y++)
            for (Py_ssize_t x = 0; x < r.w; x++)
                if (r.p[y * r.rs + x * r.ps] && g.p[(ky + y) * g.rs + (kx + x) * g.ps]) {
                    hit = 1;
                    break;
                }
        if (!hit)
            for (Py_ssize_t y = 0; y < f.h; y++)
                for (Py_ssize_t x = 0; x < f.w; x++)
                    g.p[(ky + y) * g.rs + (kx + x) * g.ps] |= f.p[y * f.rs + x * f.ps];
        out = hit ? Py_False : Py_True;
    }
    PyBuffer_Release(&g.buf);
    PyBuffer_Release(&r.buf);
    PyBuffer_Release(&f.buf);
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
    View img, a;
    if (view_get(oimg, &img, 3, 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (view_get(oa, &a, 1, 0) < 0) {
        PyBuffer_Release(&img.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (a.h != img.h || a.w != img.w || img.ps != 3) {
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&a.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    unsigned char *a3 = PyMem_Malloc(6 * (img.w ? img.w : 1)), *c3 = a3 + 3 * (img.w ? img.w : 1);
    if (a3 == NULL) {
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&a.buf);
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
    PyBuffer_Release(&img.buf);
    PyBuffer_Release(&a.buf);
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
    View img, a, f;
    if (view_get(oimg, &img, 3, 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (view_get(oa, &a, 1, 0) < 0) {
        PyBuffer_Release(&img.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (view_get(ofield, &f, 3, 0) < 0) {
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&a.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (a.h != img.h || a.w != img.w || f.h != img.h || f.w != img.w) {
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&a.buf);
        PyBuffer_Release(&f.buf);
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
    PyBuffer_Release(&img.buf);
    PyBuffer_Release(&a.buf);
    PyBuffer_Release(&f.buf);
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
    Py_buffer br, bo;
    if (typed_get(oramp, &br, "f", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (typed_get(oout, &bo, "B", 1) < 0) {
        PyBuffer_Release(&br);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (br.len != 256 * 4 || bo.len != 256 * 3) {
        PyBuffer_Release(&br);
        PyBuffer_Release(&bo);
        Py_RETURN_NOTIMPLEMENTED;
    }
    const float *r = (const float *)br.buf;
    unsigned char *o = (unsigned char *)bo.buf;
    for (int c = 0; c < 3; c++) {
        float a = (float)c0[c], b = (float)c1[c], base = a + 0.5f, d = b - a;
        for (int v = 0; v < 256; v++) {
            float x = base + d * r[v];
            /* numpy's float32 -> uint8 cast of 0..255.99 (the colours are 0..255) */
            o[3 * v + c] = (unsigned char)(int)x;
        }
    }
    PyBuffer_Release(&br);
    PyBuffer_Release(&bo);
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
    View img, out;
    if (view_get(oimg, &img, 3, 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (view_get(oout, &out, 1, 1) < 0) {
        PyBuffer_Release(&img.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (out.h != img.h || out.w != img.w) {
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&out.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    for (Py_ssize_t r = 0; r < img.h; r++)
        for (Py_ssize_t c = 0; c < img.w; c++)
            out.p[r * out.rs + c * out.ps] = (unsigned char)gray_of(img.p + r * img.rs + c * img.ps);
    PyBuffer_Release(&img.buf);
    PyBuffer_Release(&out.buf);
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
    View img, a;
    Py_buffer out;
    if (view_get(oimg, &img, channels, 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (view_get(oa, &a, 1, 0) < 0) {
        PyBuffer_Release(&img.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (PyObject_GetBuffer(oout, &out, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&a.buf);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (a.h != img.h || a.w != img.w || out.len != 256 * 4 || out.itemsize != 4 || !out.format ||
        strcmp(out.format, "f") != 0 || img.h * img.w >= (1 << 24) || level < 1 || level > 255) {
        PyBuffer_Release(&img.buf);
        PyBuffer_Release(&a.buf);
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
    PyBuffer_Release(&img.buf);
    PyBuffer_Release(&a.buf);
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

/* -- glyph pasting (synthgen/renderers/glyphs.py: compose_line) -------------------------------- */

/* canvas[y:y+h, x:x+w] = max(canvas[y:y+h, x:x+w], mask) for each (mask, x, y) of three
   equal-length lists, in order. NotImplemented (nothing pasted) unless every mask is a uint8
   h x w array lying wholly inside the canvas. */
static PyObject *paste_max(PyObject *self, PyObject *args)
{
    PyObject *ocanvas, *masks, *xs, *ys;
    if (!PyArg_ParseTuple(args, "OO!O!O!", &ocanvas, &PyList_Type, &masks, &PyList_Type, &xs, &PyList_Type, &ys))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(masks);
    if (PyList_GET_SIZE(xs) != n || PyList_GET_SIZE(ys) != n)
        Py_RETURN_NOTIMPLEMENTED;
    View canvas;
    if (view_get(ocanvas, &canvas, 1, 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    View *m = PyMem_Malloc(sizeof(View) * (n ? n : 1));
    Py_ssize_t *at = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (n ? n : 1));
    Py_ssize_t got = 0;
    PyObject *result = Py_NotImplemented;
    if (m == NULL || at == NULL) {
        result = PyErr_NoMemory();
        goto done;
    }
    for (; got < n; got++) {
        if (view_get(PyList_GET_ITEM(masks, got), &m[got], 1, 0) < 0)
            goto done;
        Py_ssize_t x = PyLong_AsSsize_t(PyList_GET_ITEM(xs, got)), y = PyLong_AsSsize_t(PyList_GET_ITEM(ys, got));
        if (PyErr_Occurred()) {
            PyErr_Clear();
            got++;
            goto done;
        }
        if (x < 0 || y < 0 || x + m[got].w > canvas.w || y + m[got].h > canvas.h) {
            got++;
            goto done;
        }
        at[2 * got] = x;
        at[2 * got + 1] = y;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const View *g = &m[i];
        for (Py_ssize_t r = 0; r < g->h; r++) {
            unsigned char *dst = canvas.p + (at[2 * i + 1] + r) * canvas.rs + at[2 * i] * canvas.ps;
            const unsigned char *src = g->p + r * g->rs;
            for (Py_ssize_t c = 0; c < g->w; c++, dst += canvas.ps, src += g->ps)
                *dst = *src > *dst ? *src : *dst;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
done:
    if (m != NULL)
        for (Py_ssize_t i = 0; i < got; i++)
            if (i < n && m[i].buf.obj != NULL)
                PyBuffer_Release(&m[i].buf);
    PyMem_Free(m);
    PyMem_Free(at);
    PyBuffer_Release(&canvas.buf);
    Py_XINCREF(result);
    return result;
}

/* -- numpy arrays read in place (compose) --------------------------------------------------- */

/* The first fields of numpy's array object (PyArrayObject_fields in numpy/ndarraytypes.h),
   read without numpy's headers. Used only after synthgen/native.py has compared what they
   give for a few arrays with numpy's own answers (array_probe) and called array_setup; any
   other numpy turns these kernels off (NotImplemented). Reading them exports no buffer, so
   numpy attaches no buffer-info record to a long-lived array (a cached glyph mask). */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
} NpyHead;

static PyObject *np_type = NULL, *np_u8 = NULL, *np_zeros = NULL;

/* array_probe(a) -> (data address, ndim, shape, strides, dtype is uint8) as read from the struct */
static PyObject *array_probe(PyObject *self, PyObject *a)
{
    NpyHead *h = (NpyHead *)a;
    if (h->nd < 0 || h->nd > 32)
        Py_RETURN_NONE;
    PyObject *shape = PyTuple_New(h->nd), *strides = PyTuple_New(h->nd);
    if (shape == NULL || strides == NULL) {
        Py_XDECREF(shape);
        Py_XDECREF(strides);
        return NULL;
    }
    for (int i = 0; i < h->nd; i++) {
        PyTuple_SET_ITEM(shape, i, PyLong_FromSsize_t(h->dimensions[i]));
        PyTuple_SET_ITEM(strides, i, PyLong_FromSsize_t(h->strides[i]));
    }
    return Py_BuildValue("(KiNNO)", (unsigned long long)(uintptr_t)h->data, h->nd, shape, strides,
                         h->descr == np_u8 && np_u8 != NULL ? Py_True : Py_False);
}

/* array_setup(ndarray type, uint8 dtype, np.zeros) before array_probe; array_setup(None,
   None, None) turns the array kernels off */
static PyObject *array_setup(PyObject *self, PyObject *args)
{
    PyObject *t, *u8, *zeros;
    if (!PyArg_ParseTuple(args, "OOO", &t, &u8, &zeros))
        return NULL;
    Py_XDECREF(np_type);
    Py_XDECREF(np_u8);
    Py_XDECREF(np_zeros);
    np_type = np_u8 = np_zeros = NULL;
    if (t != Py_None && PyType_Check(t) && u8 != Py_None && zeros != Py_None) {
        Py_INCREF(t);
        Py_INCREF(u8);
        Py_INCREF(zeros);
        np_type = t;
        np_u8 = u8;
        np_zeros = zeros;
    }
    Py_RETURN_NONE;
}

static int ready = 0;  /* set by array_ready once native.py's probes agreed */

static PyObject *array_ready(PyObject *self, PyObject *arg)
{
    ready = PyObject_IsTrue(arg) == 1 && np_type != NULL;
    return PyBool_FromLong(ready);
}

/* a 2-D uint8 numpy array with unit column stride: its head, else NULL */
static inline NpyHead *u8_2d(PyObject *o)
{
    if (Py_TYPE(o) != (PyTypeObject *)np_type)
        return NULL;
    NpyHead *h = (NpyHead *)o;
    if (h->nd != 2 || h->descr != np_u8 || (h->dimensions[0] > 0 && h->dimensions[1] > 1 && h->strides[1] != 1))
        return NULL;
    return h;
}

/* -- a horizontal line of cached glyphs (synthgen/renderers/glyphs.py: compose_line) --------- */

static PyObject *s_mask, *s_x0, *s_y0, *s_w, *s_h, *s_advance, *s_blank, *s_inset;

typedef struct {
    NpyHead *mask;
    long x0, y0, w, h;
    double advance, inset[4];
    int blank;
    long px, py;  /* ink position (blank: unused) */
    double pxf;   /* pen position of a blank glyph */
} GlyphC;

static int attr_long(PyObject *g, PyObject *name, long *out)
{
    PyObject *v = PyObject_GetAttr(g, name);
    if (v == NULL || !PyLong_CheckExact(v)) {
        Py_XDECREF(v);
        PyErr_Clear();
        return -1;
    }
    *out = PyLong_AsLong(v);
    Py_DECREF(v);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

static int attr_float(PyObject *g, PyObject *name, double *out)
{
    PyObject *v = PyObject_GetAttr(g, name);
    if (v == NULL || !PyFloat_CheckExact(v)) {
        Py_XDECREF(v);
        PyErr_Clear();
        return -1;
    }
    *out = PyFloat_AS_DOUBLE(v);
    Py_DECREF(v);
    return 0;
}

/* one glyph's fields; -1 (no exception) when it is not what compose_line's reference reads */
static int glyph_get(PyObject *g, GlyphC *c)
{
    PyObject *blank = PyObject_GetAttr(g, s_blank);
    if (blank == NULL || !PyBool_Check(blank)) {
        Py_XDECREF(blank);
        PyErr_Clear();
        return -1;
    }
    c->blank = blank == Py_True;
    Py_DECREF(blank);
    if (attr_float(g, s_advance, &c->advance) < 0)
        return -1;
    if (c->blank)
        return 0;
    if (attr_long(g, s_x0, &c->x0) < 0 || attr_long(g, s_y0, &c->y0) < 0 || attr_long(g, s_w, &c->w) < 0 ||
        attr_long(g, s_h, &c->h) < 0)
        return -1;
    PyObject *ins = PyObject_GetAttr(g, s_inset);
    if (ins == NULL || !PyTuple_CheckExact(ins) || PyTuple_GET_SIZE(ins) != 4) {
        Py_XDECREF(ins);
        PyErr_Clear();
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        PyObject *v = PyTuple_GET_ITEM(ins, i);
        if (!PyFloat_CheckExact(v)) {
            Py_DECREF(ins);
            return -1;
        }
        c->inset[i] = PyFloat_AS_DOUBLE(v);
    }
    Py_DECREF(ins);
    PyObject *m = PyObject_GetAttr(g, s_mask);
    if (m == NULL) {
        PyErr_Clear();
        return -1;
    }
    c->mask = u8_2d(m);
    Py_DECREF(m);  /* the glyph holds the mask for the call (the caller holds the glyphs) */
    if (c->mask == NULL || c->mask->dimensions[0] != c->h || c->mask->dimensions[1] != c->w || c->w <= 0 || c->h <= 0)
        return -1;
    return 0;
}

/* glyphs.inset_quads: inset_quads(quads, glyphs, out) -> True (out written) | False (no glyph
   has an inset: the caller keeps its quads) | NotImplemented. quads: n x 4 x 2 float32 or
   float64 (C-contiguous), each laid over its glyph's whole mask; glyphs: a list of n glyphs
   (blank, inset, w, h read as the reference reads them); out: n x 4 x 2 float32. The
   reference's float64 operations in its order: eu = (q1 - q0) / w, ev = (q3 - q0) / h,
   q0 + l eu + t ev, q1 - r eu + t ev, q2 - r eu - b ev, q3 + l eu - b ev (a blank glyph: no
   inset over a 1 x 1 mask), then the float32 cast. */
static PyObject *inset_quads(PyObject *self, PyObject *args)
{
    PyObject *oq, *glyphs, *oo;
    if (!PyArg_ParseTuple(args, "OOO", &oq, &glyphs, &oo) || !PyList_CheckExact(glyphs)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_ssize_t n = PyList_GET_SIZE(glyphs);
    double *ins = PyMem_Malloc(sizeof(double) * 6 * (n ? n : 1)); /* l t r b w h a glyph */
    if (ins == NULL)
        return PyErr_NoMemory();
    int any = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *g = PyList_GET_ITEM(glyphs, k), *blank = PyObject_GetAttr(g, s_blank);
        double *e = ins + 6 * k;
        if (blank == NULL || !PyBool_Check(blank)) {
            Py_XDECREF(blank);
            PyErr_Clear();
            PyMem_Free(ins);
            Py_RETURN_NOTIMPLEMENTED;
        }
        int is_blank = blank == Py_True;
        Py_DECREF(blank);
        e[0] = e[1] = e[2] = e[3] = 0.0;
        e[4] = e[5] = 1.0;
        if (is_blank)
            continue;
        long w, h;
        PyObject *t = NULL;
        if (attr_long(g, s_w, &w) < 0 || attr_long(g, s_h, &h) < 0 || (t = PyObject_GetAttr(g, s_inset)) == NULL ||
            !PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 4) {
            Py_XDECREF(t);
            PyErr_Clear();
            PyMem_Free(ins);
            Py_RETURN_NOTIMPLEMENTED;
        }
        for (int i = 0; i < 4; i++) {
            PyObject *v = PyTuple_GET_ITEM(t, i);
            if (!PyFloat_CheckExact(v)) {
                Py_DECREF(t);
                PyMem_Free(ins);
                Py_RETURN_NOTIMPLEMENTED;
            }
            e[i] = PyFloat_AS_DOUBLE(v);
            any |= e[i] != 0.0;
        }
        Py_DECREF(t);
        e[4] = (double)w;
        e[5] = (double)h;
    }
    if (!any) {
        PyMem_Free(ins);
        Py_RETURN_FALSE;
    }
    Py_buffer bq, bo;
    if (PyObject_GetBuffer(oq, &bq, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyMem_Free(ins);
        Py_RETURN_NOTIMPLEMENTED;
    }
    int q32 = bq.format && strcmp(bq.format, "f") == 0, q64 = bq.format && strcmp(bq.format, "d") == 0;
    if (!(q32 || q64) || bq.len / bq.itemsize != 8 * n || typed_get(oo, &bo, "f", 1) < 0) {
        PyBuffer_Release(&bq);
        PyMem_Free(ins);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (bo.len / 4 != 8 * n) {
        PyBuffer_Release(&bq);
        PyBuffer_Release(&bo);
        PyMem_Free(ins);
        Py_RETURN_NOTIMPLEMENTED;
    }
    float *out = (float *)bo.buf;
    for (Py_ssize_t k = 0; k < n; k++) {
        double q[8];
        for (int i = 0; i < 8; i++)
            q[i] = q32 ? (double)((const float *)bq.buf)[8 * k + i] : ((const double *)bq.buf)[8 * k + i];
        const double *e = ins + 6 * k;
        double l = e[0], t = e[1], r = e[2], b = e[3], w = e[4], h = e[5];
        for (int c = 0; c < 2; c++) { /* x, then y */
            double eu = (q[2 + c] - q[c]) / w, ev = (q[6 + c] - q[c]) / h;
            out[8 * k + c] = (float)((q[c] + l * eu) + t * ev);
            out[8 * k + 2 + c] = (float)((q[2 + c] - r * eu) + t * ev);
            out[8 * k + 4 + c] = (float)((q[4 + c] - r * eu) - b * ev);
            out[8 * k + 6 + c] = (float)((q[6 + c] + l * eu) - b * ev);
        }
    }
    PyBuffer_Release(&bq);
    PyBuffer_Release(&bo);
    PyMem_Free(ins);
    Py_RETURN_TRUE;
}

/* layout.expand_quads for r != 0: expand_quads(quads, r, out) -> None (out written) |
   NotImplemented. quads: ... x 4 x 2 float32 or float64 (C-contiguous), out: float32 of the
   same shape. The reference's float64 operations: ex = q1 - q0, ey = q3 - q0, each times
   r / max(hypot(edge), 1e-9) (numpy's hypot is the C library's; its maximum keeps a NaN), then
   q0 + (-ex - ey), q1 + (ex - ey), q2 + (ex + ey), q3 + (ey - ex), cast to float32. */
static PyObject *expand_quads(PyObject *self, PyObject *args)
{
    PyObject *oq, *oo;
    double r;
    if (!PyArg_ParseTuple(args, "OdO", &oq, &r, &oo)) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer bq, bo;
    if (PyObject_GetBuffer(oq, &bq, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    int q32 = bq.format && strcmp(bq.format, "f") == 0, q64 = bq.format && strcmp(bq.format, "d") == 0;
    if (!(q32 || q64) || bq.ndim < 2 || bq.shape[bq.ndim - 1] != 2 || bq.shape[bq.ndim - 2] != 4 ||
        typed_get(oo, &bo, "f", 1) < 0) {
        PyBuffer_Release(&bq);
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_ssize_t m = bq.len / bq.itemsize / 8;
    if (bo.len / 4 != 8 * m) {
        PyBuffer_Release(&bq);
        PyBuffer_Release(&bo);
        Py_RETURN_NOTIMPLEMENTED;
    }
    float *out = (float *)bo.buf;
    for (Py_ssize_t k = 0; k < m; k++) {
        double q[8];
        for (int i = 0; i < 8; i++)
            q[i] = q32 ? (double)((const float *)bq.buf)[8 * k + i] : ((const double *)bq.buf)[8 * k + i];
        double ex[2] = {q[2] - q[0], q[3] - q[1]}, ey[2] = {q[6] - q[0], q[7] - q[1]};
        double hx = hypot(ex[0], ex[1]), hy = hypot(ey[0], ey[1]);
        double sx = r / (hx != hx ? hx : (hx >= 1e-9 ? hx : 1e-9)), sy = r / (hy != hy ? hy : (hy >= 1e-9 ? hy : 1e-9));
        for (int c = 0; c < 2; c++) {
            ex[c] = ex[c] * sx;
            ey[c] = ey[c] * sy;
            out[8 * k + c] = (float)(q[c] + (-ex[c] - ey[c]));
            out[8 * k + 2 + c] = (float)(q[2 + c] + (ex[c] - ey[c]));
            out[8 * k + 4 + c] = (float)(q[4 + c] + (ex[c] + ey[c]));
            out[8 * k + 6 + c] = (float)(q[6 + c] + (ey[c] - ex[c]));
        }
    }
    PyBuffer_Release(&bq);
    PyBuffer_Release(&bo);
    Py_RETURN_NONE;
}

/* compose(glyphs, spacing, pad) -> (canvas, boxes, oy): compose_line without jitter, the same
   canvas (a numpy array from np.zeros), the same boxes (floats; a blank glyph's y values are
   ints, as the reference makes them) and oy; NotImplemented for anything else (no ink, a glyph
   it cannot read), for which the caller runs its reference */
static PyObject *compose(PyObject *self, PyObject *args)
{
    PyObject *glyphs;
    double spacing;
    long pad;
    if (!PyArg_ParseTuple(args, "O!dl", &PyList_Type, &glyphs, &spacing, &pad))
        return NULL;
    if (!ready)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PyList_GET_SIZE(glyphs);
    GlyphC *gs = PyMem_Malloc(sizeof(GlyphC) * (n ? n : 1));
    if (gs == NULL)
        return PyErr_NoMemory();
    PyObject *canvas = NULL, *boxes = NULL, *result = NULL;
    /* pass 1: pen positions and the ink's extent, as the reference computes them */
    double x = 0.0;
    long x_min = 1L << 30, y_min = 1L << 30, x_max = -(1L << 30), y_max = -(1L << 30);
    for (Py_ssize_t k = 0; k < n; k++) {
        GlyphC *c = &gs[k];
        if (glyph_get(PyList_GET_ITEM(glyphs, k), c) < 0)
            goto not_implemented;
        if (c->blank) {
            c->pxf = x;
        } else {
            c->px = (long)nearbyint(x) + c->x0;  /* round(x): halves to even, as Python's */
            c->py = c->y0;
            if (c->px < x_min)
                x_min = c->px;
            if (c->px + c->w > x_max)
                x_max = c->px + c->w;
            if (c->py < y_min)
                y_min = c->py;
            if (c->py + c->h > y_max)
                y_max = c->py + c->h;
        }
        x += c->advance + spacing;
    }
    if (x_max < x_min)
        goto not_implemented;  /* no ink: the reference raises */
    long ox = pad - x_min, oy = pad - y_min;
    long W = x_max - x_min + 2 * pad, H = y_max - y_min + 2 * pad;
    canvas = PyObject_CallFunction(np_zeros, "((ll)O)", H, W, np_u8);
    if (canvas == NULL)
        goto fail;
    NpyHead *cv = u8_2d(canvas);
    if (cv == NULL || cv->dimensions[0] != H || cv->dimensions[1] != W || cv->strides[0] != W)
        goto not_implemented;
    boxes = PyList_New(n);
    if (boxes == NULL)
        goto fail;
    /* pass 2: paste (max where neighbours overlap), and the boxes */
    long right = 0;
    unsigned char *out = (unsigned char *)cv->data;
    for (Py_ssize_t k = 0; k < n; k++) {
        GlyphC *c = &gs[k];
        PyObject *box;
        if (c->blank) {
            double x0 = c->pxf + (double)ox;
            double adv = 1.0 > c->advance ? 1.0 : c->advance;
            box = Py_BuildValue("(dldl)", x0, pad, x0 + adv, H - pad);
        } else {
            long x0 = c->px + ox, y0 = c->py + oy, x1 = x0 + c->w, y1 = y0 + c->h;
            const unsigned char *src = (const unsigned char *)c->mask->data;
            Py_ssize_t rs = c->mask->strides[0];
            for (long r = 0; r < c->h; r++) {
                unsigned char *d = out + (y0 + r) * W + x0;
                const unsigned char *s = src + r * rs;
                if (x0 >= right)
                    memcpy(d, s, (size_t)c->w);
                else
                    for (long q = 0; q < c->w; q++)
                        d[q] = s[q] > d[q] ? s[q] : d[q];
            }
            if (x1 > right)
                right = x1;
            box = Py_BuildValue("(dddd)", (double)x0 + c->inset[0], (double)y0 + c->inset[1],
                                (double)x1 - c->inset[2], (double)y1 - c->inset[3]);
        }
        if (box == NULL)
            goto fail;
        PyList_SET_ITEM(boxes, k, box);
    }
    result = Py_BuildValue("(OOl)", canvas, boxes, oy);
    goto done;
not_implemented:
    result = Py_NotImplemented;
    Py_INCREF(result);
    goto done;
fail:
    result = NULL;
done:
    Py_XDECREF(canvas);
    Py_XDECREF(boxes);
    PyMem_Free(gs);
    return result;
}

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
    {"gray", gray, METH_VARARGS, "gray(img, out): cv2.COLOR_RGB2GRAY of uint8 RGB into out (h x w uint8)."},
    {"luma_hist", luma_hist, METH_VARARGS,
     "luma_hist(img, alpha, level, out): styles.luma_under of an RGB image, into 256 float32."},
    {"masked_hist", masked_hist, METH_VARARGS,
     "masked_hist(y, alpha, level, out): styles.luma_under's histogram of y into 256 float32 (NotImplemented: other inputs)."},
    {"array_probe", array_probe, METH_O, "array_probe(a) -> (data address, ndim, shape, strides, is uint8): numpy's array fields as compose reads them."},
    {"array_setup", array_setup, METH_VARARGS, "array_setup(ndarray, uint8 dtype, np.zeros): what the array kernels compare and call."},
    {"array_ready", array_ready, METH_O, "array_ready(ok) -> bool: turn the array kernels on (after the probes agreed) or off."},
    {"compose", compose, METH_VARARGS,
     "compose(glyphs, spacing, pad) -> (canvas, boxes, oy): glyphs.compose_line without jitter (NotImplemented: other input)."},
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
