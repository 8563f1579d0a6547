/* synthgen._native, label geometry: rounding to 1/100 px, the EAST score map. Included by
   synthgen/_native.c (one translation unit): its rules apply here. */

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
    PyObject *arr[2] = {o64, o32};
    Py_buffer b[2];
    if (typed_get_all(arr, b, "df", "11", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer b64 = b[0], b32 = b[1];
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
    release_all(b, 2);
    return out;
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
