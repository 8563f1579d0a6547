/* synthgen._native, glyphs: pasting, numpy arrays read in place, a line of cached glyphs, insets
   and quad growth. Included by synthgen/_native.c (one translation unit): its rules apply here. */

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

/* compose(glyphs, spacing, pad[, out[, dxs, dys]]) -> (canvas, boxes, oy): compose_line, the
   same canvas (a numpy array from np.zeros), the same boxes (floats; a blank glyph's y values
   are ints, as the reference makes them) and oy; NotImplemented for anything else (no ink, a
   glyph it cannot read), for which the caller runs its reference. `out` (float32, len(glyphs)
   x 4, writable, or None): the boxes are written there instead, as np.array(boxes, np.float32)
   holds them (each double rounded to float32 once, as numpy's cast does), and `boxes` is
   `out`. `dxs`, `dys` (float64 and int64, one per glyph): compose_line's jitter, the pen moved
   by max(1.0, (advance + spacing) + dx) and each glyph dy off the baseline. */
static PyObject *compose(PyObject *self, PyObject *args)
{
    PyObject *glyphs, *out_arg = NULL, *dx_arg = NULL, *dy_arg = NULL;
    double spacing;
    long pad;
    if (!PyArg_ParseTuple(args, "O!dl|OOO", &PyList_Type, &glyphs, &spacing, &pad, &out_arg, &dx_arg, &dy_arg))
        return NULL;
    if (!ready || (dx_arg == NULL) != (dy_arg == NULL))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = PyList_GET_SIZE(glyphs);
    /* zeroed: PyBuffer_Release leaves a buffer it never got alone, so every exit releases all three */
    Py_buffer bo = {0}, bx = {0}, by = {0};
    float *fo = NULL;
    const double *jx = NULL;
    const int64_t *jy = NULL;
    GlyphC *gs = NULL;
    PyObject *canvas = NULL, *boxes = NULL, *result = NULL;
    if (dx_arg != NULL) {
        if (sizeof(long) != sizeof(int64_t) || typed_get(dx_arg, &bx, "d", 0) < 0 || typed_get(dy_arg, &by, "l", 0) < 0
            || bx.len != n * (Py_ssize_t)sizeof(double) || by.len != n * (Py_ssize_t)sizeof(int64_t))
            goto not_implemented;
        jx = bx.buf, jy = by.buf;
    }
    if (out_arg != NULL && out_arg != Py_None) {
        if (typed_get(out_arg, &bo, "f", 1) < 0 || bo.len != (Py_ssize_t)(n * 4 * sizeof(float)))
            goto not_implemented;
        fo = (float *)bo.buf;
    }
    gs = PyMem_Malloc(sizeof(GlyphC) * (n ? n : 1));
    if (gs == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
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
            c->py = c->y0 + (jy != NULL ? (long)jy[k] : 0);
            if (c->px < x_min)
                x_min = c->px;
            if (c->px + c->w > x_max)
                x_max = c->px + c->w;
            if (c->py < y_min)
                y_min = c->py;
            if (c->py + c->h > y_max)
                y_max = c->py + c->h;
        }
        if (jx != NULL) {
            double t = c->advance + spacing + jx[k]; /* max(1.0, t): the pen never moves back */
            x += t > 1.0 ? t : 1.0;
        } else {
            x += c->advance + spacing;
        }
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
    if (fo != NULL) {
        boxes = out_arg;
        Py_INCREF(boxes);
    } else {
        boxes = PyList_New(n);
        if (boxes == NULL)
            goto fail;
    }
    /* pass 2: paste (max where neighbours overlap), and the boxes */
    long right = 0;
    unsigned char *out = (unsigned char *)cv->data;
    for (Py_ssize_t k = 0; k < n; k++) {
        GlyphC *c = &gs[k];
        PyObject *box;
        if (c->blank) {
            double x0 = c->pxf + (double)ox;
            double adv = 1.0 > c->advance ? 1.0 : c->advance;
            if (fo != NULL) {
                float *b = fo + 4 * k;
                b[0] = (float)x0, b[1] = (float)pad, b[2] = (float)(x0 + adv), b[3] = (float)(H - pad);
                continue;
            }
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
            if (fo != NULL) {
                float *b = fo + 4 * k;
                b[0] = (float)((double)x0 + c->inset[0]), b[1] = (float)((double)y0 + c->inset[1]);
                b[2] = (float)((double)x1 - c->inset[2]), b[3] = (float)((double)y1 - c->inset[3]);
                continue;
            }
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
    PyBuffer_Release(&bo);
    PyBuffer_Release(&bx);
    PyBuffer_Release(&by);
    return result;
}

/* box_quads(boxes, out) -> (min x0, max x1): layout.box_quads of float32 boxes (n x 4: x0, y0,
   x1, y1) into out (float32, n x 4 x 2: TL, TR, BR, BL), and the least x0 and the greatest x1
   as Python floats (numpy's min and max of those columns; n > 0); NotImplemented for other
   input, or an extreme that is zero (numpy keeps 0.0 or -0.0 by the order of its loops: its
   min / max decide those; out is written all the same) */
static PyObject *box_quads(PyObject *self, PyObject *args)
{
    PyObject *a, *o;
    if (!PyArg_ParseTuple(args, "OO", &a, &o))
        return NULL;
    Py_buffer bb, bo;
    if (typed_get(a, &bb, "f", 0) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    if (typed_get(o, &bo, "f", 1) < 0) {
        PyBuffer_Release(&bb);
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_ssize_t n = bb.len / (Py_ssize_t)(4 * sizeof(float));
    if (n < 1 || bb.len != n * (Py_ssize_t)(4 * sizeof(float)) || bo.len != 2 * bb.len) {
        PyBuffer_Release(&bb);
        PyBuffer_Release(&bo);
        Py_RETURN_NOTIMPLEMENTED;
    }
    const float *b = (const float *)bb.buf;
    float *q = (float *)bo.buf;
    float lo = b[0], hi = b[2];
    for (Py_ssize_t k = 0; k < n; k++, b += 4, q += 8) {
        q[0] = b[0], q[1] = b[1], q[2] = b[2], q[3] = b[1];
        q[4] = b[2], q[5] = b[3], q[6] = b[0], q[7] = b[3];
        if (b[0] < lo)
            lo = b[0];
        if (b[2] > hi)
            hi = b[2];
    }
    PyBuffer_Release(&bb);
    PyBuffer_Release(&bo);
    if (lo == 0.0f || hi == 0.0f) /* which of 0.0 and -0.0 numpy's min / max keep depends on its loops */
        Py_RETURN_NOTIMPLEMENTED;
    return Py_BuildValue("(dd)", (double)lo, (double)hi);
}

/* -- a glyph read from a small atlas entry (synthgen/renderers/glyphs.py: _Atlas.get) -------- */

static uint32_t crc_tab[8][256]; /* CRC-32 (zlib's: reflected, polynomial 0xEDB88320), 8 bytes a step */
static int crc_ready = 0;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 255];
    crc_ready = 1;
}

/* zlib.crc32(p[:n]) */
static uint32_t crc32_of(const unsigned char *p, Py_ssize_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t a = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = crc_tab[7][a & 255] ^ crc_tab[6][a >> 8 & 255] ^ crc_tab[5][a >> 16 & 255] ^ crc_tab[4][a >> 24] ^
            crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^ crc_tab[1][p[6]] ^ crc_tab[0][p[7]];
    }
    while (n-- > 0)
        c = crc_tab[0][(c ^ *p++) & 255] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* crc32(data) -> int: zlib.crc32 of a C-contiguous buffer (for the tests) */
static PyObject *crc32(PyObject *self, PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (!crc_ready)
        crc_init();
    uint32_t c = crc32_of(b.buf, b.len);
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

/* atlas_glyph(cps, recs, advs, blob, cp, Glyph, edge, half) -> Glyph | None | False |
   NotImplemented: _Atlas.get's blob path for code point cp. cps uint32 (n,) sorted, recs int32
   (n, 7: off, x0, y0, w, h, crc, edge bytes), advs float64 (n,), blob the entry's masks (bytes);
   edge and half: glyphs._EDGE and _HALF (256 floats each, whose objects the inset tuple shares).
   None: cp is not in the entry; False: its mask does not check out (CRC or length: the caller
   marks the entry damaged); NotImplemented: anything else, a blank glyph included (the
   reference runs). The Glyph has what Glyph(mask, x0, y0, adv, _insets(e, w, h)) sets: mask a
   read-only h x w uint8 view of blob (np.ndarray((h, w), np.uint8, blob, off)), x0, y0, h, w
   ints, advance a float, blank False, inset the 4 shared floats. */
static PyObject *atlas_glyph(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8 || !ready || !PyType_Check(args[5]) || !PyTuple_CheckExact(args[6]) ||
        !PyTuple_CheckExact(args[7]) || PyTuple_GET_SIZE(args[6]) != 256 || PyTuple_GET_SIZE(args[7]) != 256 ||
        !PyBytes_CheckExact(args[3]) || !PyLong_CheckExact(args[4]))
        Py_RETURN_NOTIMPLEMENTED;
    long cpl = PyLong_AsLong(args[4]);
    if (cpl == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_buffer b[3];
    if (typed_get_all(args, b, "Iid", "000", 3) < 0)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *out = Py_NotImplemented;
    Py_ssize_t n = b[0].len / 4;
    if (b[1].len != 28 * n || b[2].len != 8 * n)
        goto done;
    const uint32_t *cps = b[0].buf;
    if (cpl < 0 || cpl > 0xFFFFFFFFL) {
        out = Py_None;
        goto done;
    }
    uint32_t cp = (uint32_t)cpl;
    Py_ssize_t lo = 0, hi = n; /* bisect_left */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (cps[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n || cps[lo] != cp) {
        out = Py_None;
        goto done;
    }
    const int32_t *r = (const int32_t *)b[1].buf + 7 * lo;
    long off = r[0], x0 = r[1], y0 = r[2], w = r[3], h = r[4];
    uint32_t crc = (uint32_t)r[5], e = (uint32_t)r[6];
    double adv = ((const double *)b[2].buf)[lo];
    long long area = (long long)w * (long long)h;
    if (area <= 0 || w < 0 || h < 0)
        goto done; /* a blank glyph (or nonsense): the reference */
    const unsigned char *blob = (const unsigned char *)PyBytes_AS_STRING(args[3]);
    Py_ssize_t blen = PyBytes_GET_SIZE(args[3]);
    if (!crc_ready)
        crc_init();
    if (off < 0 || off + area > blen || crc32_of(blob + off, (Py_ssize_t)area) != crc) {
        out = Py_False;
        goto done;
    }
    PyObject *edge = args[6], *half = args[7];
    unsigned cl = e & 255, ct = e >> 8 & 255, cr = e >> 16 & 255, cb = e >> 24 & 255;
    PyObject *il = w == 1 ? PyTuple_GET_ITEM(half, cl) : PyTuple_GET_ITEM(edge, cl);
    PyObject *ir = w == 1 ? PyTuple_GET_ITEM(half, cl) : PyTuple_GET_ITEM(edge, cr);
    PyObject *it = h == 1 ? PyTuple_GET_ITEM(half, ct) : PyTuple_GET_ITEM(edge, ct);
    PyObject *ib = h == 1 ? PyTuple_GET_ITEM(half, ct) : PyTuple_GET_ITEM(edge, cb);
    PyObject *inset = PyTuple_Pack(4, il, it, ir, ib);
    PyObject *mask = inset == NULL ? NULL : PyObject_CallFunction(np_type, "((ll)OOl)", h, w, np_u8, args[3], off);
    PyTypeObject *gt = (PyTypeObject *)args[5];
    PyObject *g = mask == NULL ? NULL : gt->tp_alloc(gt, 0);
    PyObject *vx0 = PyLong_FromLong(x0), *vy0 = PyLong_FromLong(y0), *vw = PyLong_FromLong(w),
             *vh = PyLong_FromLong(h), *va = PyFloat_FromDouble(adv);
    if (g == NULL || vx0 == NULL || vy0 == NULL || vw == NULL || vh == NULL || va == NULL ||
        PyObject_SetAttr(g, s_mask, mask) < 0 || PyObject_SetAttr(g, s_x0, vx0) < 0 ||
        PyObject_SetAttr(g, s_y0, vy0) < 0 || PyObject_SetAttr(g, s_h, vh) < 0 || PyObject_SetAttr(g, s_w, vw) < 0 ||
        PyObject_SetAttr(g, s_advance, va) < 0 || PyObject_SetAttr(g, s_blank, Py_False) < 0 ||
        PyObject_SetAttr(g, s_inset, inset) < 0) {
        Py_XDECREF(g);
        g = NULL;
    }
    Py_XDECREF(inset);
    Py_XDECREF(mask);
    Py_XDECREF(vx0);
    Py_XDECREF(vy0);
    Py_XDECREF(vw);
    Py_XDECREF(vh);
    Py_XDECREF(va);
    release_all(b, 3);
    return g; /* NULL: the exception raised */
done:
    release_all(b, 3);
    Py_INCREF(out);
    return out;
}
