/* synthgen._native, displacement fields: the elastic field's forward map and sums, the remap /
   warp_displaced grids, the augment stage's bilinear samples. Included by synthgen/_native.c
   (one translation unit): its rules apply here. */

/* -- the elastic field's forward map (synthgen/renderers/linestyles.py: forward) ------------------- */

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
    PyObject *arr[3] = {oq, op, of};
    Py_buffer b[3];
    if (typed_get_all(arr, b, "ddf", "100", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer bq = b[0], bp = b[1], bf = b[2];
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
    release_all(b, 3);
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
    PyObject *arr[3] = {os, ox, oy};
    Py_buffer b[3]; /* src, mx, my */
    if (typed_get_all(arr, b, "dff", "011", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *out = Py_None;
    Py_ssize_t n = b[1].len / 4;
    if (b[2].len != b[1].len || b[0].len != 16 * n) {
        out = Py_NotImplemented;
    } else {
        const double *src = b[0].buf;
        float *mx = b[1].buf, *my = b[2].buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            mx[i] = (float)(src[2 * i] - 0.5);
            my[i] = (float)(src[2 * i + 1] - 0.5);
        }
    }
    release_all(b, 3);
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
    PyObject *arr[3] = {of, op, oo};
    Py_buffer b[3];
    if (typed_get_all(arr, b, "fdd", "001", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    const Py_buffer *bf = &b[0], *bp = &b[1], *bo = &b[2]; /* map, points, out */
    PyObject *out = Py_None;
    Py_ssize_t n = bo->len / 8;
    if (bf->ndim != 2 || bf->shape[0] < 2 || bf->shape[1] < 2 || bp->len != 16 * n) {
        out = Py_NotImplemented;
    } else {
        Py_ssize_t H = bf->shape[0], W = bf->shape[1];
        const float *f = bf->buf;
        const double *p = bp->buf;
        double *o = bo->buf;
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
    release_all(b, 3);
    Py_INCREF(out);
    return out;
}
