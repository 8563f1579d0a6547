/* synthgen._native, layouts: the geometry of a curved line's glyphs (synthgen/renderers/layout.py:
   curved). Included by synthgen/_native.c (one translation unit): its rules apply here. */

/* curved_frame(rel, cx, px, py, cos, sin, pad, quads, A) -> (lo_x, lo_y, W, H, boxes) |
   NotImplemented: layout._curved_frame, the numpy that `curved` runs once the curve's angles
   are known. rel (n, 4) float64: each glyph's box about its pen point (x0, y0, x1, y1); cx, px,
   py, cos, sin (n,) float64; pad an int. Writes quads (n, 4, 2) float64 (the turned corners
   moved onto the curve, then shifted by -lo onto the canvas) and A (n, 2, 3) float64 (each
   glyph's warp into its own box); boxes is the list of [x0, y0, x1, y1] ints. The same double
   operations in numpy's order; NotImplemented for other arrays, n == 0 or a value that is not
   finite (the Python raises or propagates NaN as numpy does). */
static PyObject *curved_frame(PyObject *self, PyObject *args)
{
    PyObject *o[9];
    int pad;
    if (!PyArg_ParseTuple(args, "OOOOOOiOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &pad, &o[7], &o[8])) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *ins[8] = {o[0], o[1], o[2], o[3], o[4], o[5], o[7], o[8]};
    Py_buffer b[8];
    if (typed_get_all(ins, b, "dddddddd", "00000011", 8) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *out = Py_NotImplemented;
    Py_INCREF(out);
    Py_ssize_t n = b[1].len / 8;
    if (n < 1 || b[0].len != 32 * n || b[2].len != 8 * n || b[3].len != 8 * n || b[4].len != 8 * n ||
        b[5].len != 8 * n || b[6].len != 64 * n || b[7].len != 48 * n)
        goto done;
    const double *rel = b[0].buf, *cx = b[1].buf, *px = b[2].buf, *py = b[3].buf, *cs = b[4].buf, *sn = b[5].buf;
    double *q = b[6].buf, *A = b[7].buf;
    static const int XI[4] = {0, 2, 2, 0}, YI[4] = {1, 1, 3, 3};
    double mnx = 0, mny = 0, mxx = 0, mxy = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        for (int j = 0; j < 4; j++) {
            double lx = rel[4 * k + XI[j]] - cx[k], ly = rel[4 * k + YI[j]];
            double x = lx * cs[k] - ly * sn[k] + px[k]; /* ((lx cos) - (ly sin)) + px, as numpy */
            double y = lx * sn[k] + ly * cs[k] + py[k];
            if (!isfinite(x) || !isfinite(y))
                goto done;
            q[8 * k + 2 * j] = x;
            q[8 * k + 2 * j + 1] = y;
            if ((k == 0 && j == 0) || x < mnx)
                mnx = x;
            if ((k == 0 && j == 0) || y < mny)
                mny = y;
            if ((k == 0 && j == 0) || x > mxx)
                mxx = x;
            if ((k == 0 && j == 0) || y > mxy)
                mxy = y;
        }
    }
    double lox = floor(mnx) - pad, loy = floor(mny) - pad, hix = ceil(mxx) + pad, hiy = ceil(mxy) + pad;
    PyObject *boxes = PyList_New(n);
    if (boxes == NULL) {
        Py_CLEAR(out);
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        double bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
        for (int j = 0; j < 4; j++) {
            double x = q[8 * k + 2 * j] - lox, y = q[8 * k + 2 * j + 1] - loy;
            q[8 * k + 2 * j] = x;
            q[8 * k + 2 * j + 1] = y;
            if (j == 0 || x < bx0)
                bx0 = x;
            if (j == 0 || y < by0)
                by0 = y;
            if (j == 0 || x > bx1)
                bx1 = x;
            if (j == 0 || y > by1)
                by1 = y;
        }
        bx0 = floor(bx0), by0 = floor(by0), bx1 = ceil(bx1), by1 = ceil(by1);
        double c = cs[k], s = sn[k];
        double *a = A + 6 * k;
        a[0] = c;
        a[1] = -s;
        a[2] = q[8 * k] + 0.5 * (c - s) - 0.5 - bx0;
        a[3] = s;
        a[4] = c;
        a[5] = q[8 * k + 1] + 0.5 * (s + c) - 0.5 - by0;
        PyObject *box = Py_BuildValue("[LLLL]", (long long)bx0, (long long)by0, (long long)bx1, (long long)by1);
        if (box == NULL) {
            Py_DECREF(boxes);
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(boxes, k, box);
    }
    Py_DECREF(out);
    out = Py_BuildValue("(ddLLN)", lox, loy, (long long)(hix - lox), (long long)(hiy - loy), boxes);
done:
    release_all(b, 8);
    return out;
}

/* -- 3 x 3 tuple matrices (synthgen/renderers/layout.py: mm3, apply_t) ----------------------- */

/* the 9 doubles of a tuple of 3 tuples of 3 floats, row by row: 0; 1 for anything else (an
   int among them: Python's int arithmetic is the reference's, so the Python runs) */
static int mat3_of(PyObject *m, double *v)
{
    if (!PyTuple_CheckExact(m) || PyTuple_GET_SIZE(m) != 3)
        return 1;
    for (int r = 0; r < 3; r++) {
        PyObject *row = PyTuple_GET_ITEM(m, r);
        if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) != 3)
            return 1;
        for (int c = 0; c < 3; c++) {
            PyObject *x = PyTuple_GET_ITEM(row, c);
            if (!PyFloat_CheckExact(x))
                return 1;
            v[3 * r + c] = PyFloat_AS_DOUBLE(x);
        }
    }
    return 0;
}

/* mat3_array(H, out, affine) -> None | NotImplemented: a tuple matrix of floats as numpy makes
   it: np.array(H, np.float64) into out (9 doubles), or with affine true np.array(H[:2],
   np.float64) / H[2][2] into out (6 doubles; IEEE division, as numpy's); NotImplemented for
   anything else */
static PyObject *mat3_array(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double v[9];
    if (nargs != 3 || mat3_of(args[0], v))
        Py_RETURN_NOTIMPLEMENTED;
    int affine = PyObject_IsTrue(args[2]);
    if (affine < 0) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer bo;
    if (typed_get(args[1], &bo, "d", 1) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (bo.len != (affine ? 6 : 9) * (Py_ssize_t)sizeof(double)) {
        PyBuffer_Release(&bo);
        Py_RETURN_NOTIMPLEMENTED;
    }
    double *o = bo.buf;
    for (int i = 0; i < (affine ? 6 : 9); i++)
        o[i] = affine ? v[i] / v[8] : v[i];
    PyBuffer_Release(&bo);
    Py_RETURN_NONE;
}

/* oriented_box(u, v, c, s, out) -> None | NotImplemented: the end of layout.oriented_quad once
   numpy has projected the points (u = p @ e, v = p @ n: float64, the same length n > 0): the
   extremes u0, u1, v0, v1 and the corners (u0, v0), (u1, v0), (u1, v1), (u0, v1) back in screen
   coordinates, u * e + v * n with e = (c, s), n = (-s, c), each product and sum as numpy rounds
   it, then float32, into out (4 x 2 float32); NotImplemented for other input, a NaN (numpy's
   min and max propagate it) or an extreme that is zero (which of 0.0 and -0.0 numpy's min / max
   keep depends on the order of its loops) */
static PyObject *oriented_box(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyFloat_CheckExact(args[2]) || !PyFloat_CheckExact(args[3]))
        Py_RETURN_NOTIMPLEMENTED;
    double c = PyFloat_AS_DOUBLE(args[2]), s = PyFloat_AS_DOUBLE(args[3]);
    PyObject *ins[3] = {args[0], args[1], args[4]};
    Py_buffer b[3];
    if (typed_get_all(ins, b, "ddf", "001", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *r = Py_NotImplemented;
    Py_ssize_t n = b[0].len / (Py_ssize_t)sizeof(double);
    if (n > 0 && b[1].len == b[0].len && b[2].len == 8 * (Py_ssize_t)sizeof(float)) {
        const double *u = b[0].buf, *v = b[1].buf;
        double u0 = u[0], u1 = u[0], v0 = v[0], v1 = v[0];
        int nan = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (isnan(u[i]) || isnan(v[i]))
                nan = 1;
            if (u[i] < u0)
                u0 = u[i];
            if (u[i] > u1)
                u1 = u[i];
            if (v[i] < v0)
                v0 = v[i];
            if (v[i] > v1)
                v1 = v[i];
        }
        if (!nan && u0 != 0.0 && u1 != 0.0 && v0 != 0.0 && v1 != 0.0) { /* a zero extreme: numpy's (signed) */
            const double us[4] = {u0, u1, u1, u0}, vs[4] = {v0, v0, v1, v1}, nx = -s;
            float *o = b[2].buf;
            for (int k = 0; k < 4; k++) {
                o[2 * k] = (float)(us[k] * c + vs[k] * nx);
                o[2 * k + 1] = (float)(us[k] * s + vs[k] * c);
            }
            r = Py_None;
        }
    }
    for (int i = 0; i < 3; i++)
        PyBuffer_Release(&b[i]);
    Py_INCREF(r);
    return r;
}

/* word_boxes(cq, words, out) -> None | NotImplemented: scenestyles.word_boxes' boxes before
   box_quads: for each word (a list of char indices into cq, float32 n x 4 x 2) the least and
   greatest x and y of its chars' corners, as numpy's min / max find them, into out (float32,
   len(words) x 4: x0, y0, x1, y1); NotImplemented for other input, an empty word, an index out
   of range, a NaN (numpy's min and max propagate it) or a zero extreme (its sign is numpy's) */
static PyObject *word_boxes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[1]))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *ins[2] = {args[0], args[2]};
    Py_buffer b[2];
    if (typed_get_all(ins, b, "ff", "01", 2) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *r = Py_NotImplemented;
    Py_ssize_t n = b[0].len / (Py_ssize_t)(8 * sizeof(float)), nw = PyList_GET_SIZE(args[1]);
    if (b[0].len != n * (Py_ssize_t)(8 * sizeof(float)) || b[1].len != nw * (Py_ssize_t)(4 * sizeof(float)))
        goto done;
    const float *q = b[0].buf;
    float *o = b[1].buf;
    for (Py_ssize_t w = 0; w < nw; w++) {
        PyObject *idx = PyList_GET_ITEM(args[1], w);
        if (!PyList_CheckExact(idx) || PyList_GET_SIZE(idx) < 1)
            goto done;
        float lo[2] = {0, 0}, hi[2] = {0, 0};
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(idx); j++) {
            PyObject *v = PyList_GET_ITEM(idx, j);
            if (!PyLong_CheckExact(v))
                goto done;
            long k = PyLong_AsLong(v);
            if (k == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                goto done;
            }
            if (k < 0 || k >= n)
                goto done;
            for (int c = 0; c < 4; c++) {
                for (int a = 0; a < 2; a++) {
                    float x = q[8 * k + 2 * c + a];
                    if (isnan(x))
                        goto done;
                    if ((j == 0 && c == 0) || x < lo[a])
                        lo[a] = x;
                    if ((j == 0 && c == 0) || x > hi[a])
                        hi[a] = x;
                }
            }
        }
        if (lo[0] == 0.0f || lo[1] == 0.0f || hi[0] == 0.0f || hi[1] == 0.0f)
            goto done; /* a zero extreme: numpy's min / max pick its sign */
        o[4 * w] = lo[0], o[4 * w + 1] = lo[1], o[4 * w + 2] = hi[0], o[4 * w + 3] = hi[1];
    }
    r = Py_None;
done:
    PyBuffer_Release(&b[0]);
    PyBuffer_Release(&b[1]);
    Py_INCREF(r);
    return r;
}

/* stack_points(chars, quad, out) -> None | NotImplemented: np.concatenate([chars.reshape(-1, 2),
   quad]).astype(np.float64) into out: chars and quad float32 (any shape; C-contiguous), out
   float64 with room for exactly their values (float32 -> double is exact) */
static PyObject *stack_points(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3)
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer b[3];
    if (typed_get_all(args, b, "ffd", "001", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t na = b[0].len / (Py_ssize_t)sizeof(float), nq = b[1].len / (Py_ssize_t)sizeof(float);
    PyObject *r = Py_None;
    if (na % 2 || nq % 2 || b[2].len != (na + nq) * (Py_ssize_t)sizeof(double)) {
        r = Py_NotImplemented;
    } else {
        const float *a = b[0].buf, *q = b[1].buf;
        double *o = b[2].buf;
        for (Py_ssize_t i = 0; i < na; i++)
            o[i] = (double)a[i];
        for (Py_ssize_t i = 0; i < nq; i++)
            o[na + i] = (double)q[i];
    }
    for (int i = 0; i < 3; i++)
        PyBuffer_Release(&b[i]);
    Py_INCREF(r);
    return r;
}

/* mm3(A, B) -> A @ B | NotImplemented: layout.mm3 of two tuple matrices of floats, each entry
   (a*p + b*s) + c*v as Python adds it; NotImplemented for anything else */
static PyObject *mm3(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double a[9], b[9];
    if (nargs != 2 || mat3_of(args[0], a) || mat3_of(args[1], b))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *out = PyTuple_New(3);
    if (out == NULL)
        return NULL;
    for (int r = 0; r < 3; r++) {
        const double *x = a + 3 * r;
        PyObject *row = PyTuple_New(3);
        if (row == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, r, row);
        for (int c = 0; c < 3; c++) {
            PyObject *v = PyFloat_FromDouble(x[0] * b[c] + x[1] * b[3 + c] + x[2] * b[6 + c]);
            if (v == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            PyTuple_SET_ITEM(row, c, v);
        }
    }
    return out;
}

/* a new tuple (a, b) of two floats, or NULL with an exception (Py_BuildValue's format parsing
   costs about a third of apply_t's call) */
static PyObject *float_pair(double a, double b)
{
    PyObject *x = PyFloat_FromDouble(a), *y = PyFloat_FromDouble(b), *t = NULL;
    if (x != NULL && y != NULL && (t = PyTuple_New(2)) != NULL) {
        PyTuple_SET_ITEM(t, 0, x);
        PyTuple_SET_ITEM(t, 1, y);
        return t;
    }
    Py_XDECREF(x);
    Py_XDECREF(y);
    return NULL;
}

/* apply_t(H, pts) -> [(x, y), ...] | NotImplemented: layout.apply_t of a tuple matrix of floats
   and a list or tuple of 2-item lists or tuples of floats or ints (keyed.c's plain_number: an
   int that converts to its double exactly, as Python converts it meeting a float);
   NotImplemented for anything else and where a point's w is 0 (the Python raises
   ZeroDivisionError) */
static PyObject *apply_t(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double h[9];
    if (nargs != 2 || mat3_of(args[0], h) || !(PyList_CheckExact(args[1]) || PyTuple_CheckExact(args[1])))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(args[1]);
    PyObject **items = PySequence_Fast_ITEMS(args[1]);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < n; k++) { /* (no Python code runs here: `items` stays valid) */
        PyObject *p = items[k];
        double x = 0.0, y = 0.0;
        if (!(PyTuple_CheckExact(p) || PyList_CheckExact(p)) || PySequence_Fast_GET_SIZE(p) != 2 ||
            plain_number(PySequence_Fast_ITEMS(p)[0], &x) || plain_number(PySequence_Fast_ITEMS(p)[1], &y))
            goto refuse;
        double w = h[6] * x + h[7] * y + h[8];
        if (w == 0.0)
            goto refuse;
        PyObject *q = float_pair((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w);
        if (q == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, q);
    }
    return out;
refuse: /* the list built so far (its unset items are NULL) goes */
    Py_DECREF(out);
    Py_RETURN_NOTIMPLEMENTED;
}
