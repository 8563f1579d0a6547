/* synthgen._native, the glyph atlas's sorted index. Included by synthgen/_native.c (one
   translation unit): its rules apply here. */

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
