/* synthgen._native, keyed randomness: Draws.u and the plain draws, numpy's SeedSequence,
   corpus.permute. Included by synthgen/_native.c (one translation unit): its rules apply here. */

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

/* *u from ctx_unit, or return from the calling kernel: NULL on an exception, NotImplemented
   where ctx_unit does not take the draw (the Python method runs; nothing was recorded) */
#define DRAW_UNIT(ctx, name, u)                  \
    do {                                         \
        int r_ = ctx_unit((ctx), (name), &(u));  \
        if (r_ < 0)                              \
            return NULL;                         \
        if (r_ > 0)                              \
            Py_RETURN_NOTIMPLEMENTED;            \
    } while (0)

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
    DRAW_UNIT(ctx, name, u);
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
    DRAW_UNIT(args[0], args[1], u);
    PyObject *v = u < p ? Py_True : Py_False;
    Py_INCREF(v);
    return record(args[0], args[1], v);
}

/* draw_bernoullis(ctx, names, ps, scale) -> (taken, fired) | NotImplemented: Draws.bernoulli(
   names[i], ps[i] * scale) for i = 0, 1, ... in order, each recorded as draw_bernoulli records
   it, until one it does not take (a name with no cached key): `taken` of them were drawn and
   recorded, `fired` the indices among them that came out True. The augment stage's plan
   draws ~22 ops' chances a sample this way in one call. names: a tuple of str; ps: a tuple of
   floats (NotImplemented, nothing drawn, for anything else). */
static PyObject *draw_bernoullis(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyTuple_CheckExact(args[1]) || !PyTuple_CheckExact(args[2]))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *ctx = args[0], *names = args[1], *ps = args[2];
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    double scale;
    if (PyTuple_GET_SIZE(ps) != n || plain_number(args[3], &scale))
        Py_RETURN_NOTIMPLEMENTED;
    for (Py_ssize_t i = 0; i < n; i++) {
        double p;
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(names, i)) || plain_number(PyTuple_GET_ITEM(ps, i), &p))
            Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *fired = PyList_New(0);
    if (fired == NULL)
        return NULL;
    Py_ssize_t taken = 0;
    for (; taken < n; taken++) {
        PyObject *name = PyTuple_GET_ITEM(names, taken);
        double p = 0.0, u;
        plain_number(PyTuple_GET_ITEM(ps, taken), &p); /* (checked above) */
        int r = ctx_unit(ctx, name, &u);
        if (r < 0)
            goto fail;
        if (r > 0)
            break;
        int yes = u < p * scale;
        if (PyDict_SetItem(PyTuple_GET_ITEM(ctx, 1), name, yes ? Py_True : Py_False) < 0)
            goto fail;
        if (yes) {
            PyObject *k = PyLong_FromSsize_t(taken);
            if (k == NULL || PyList_Append(fired, k) < 0) {
                Py_XDECREF(k);
                goto fail;
            }
            Py_DECREF(k);
        }
    }
    return Py_BuildValue("(nN)", taken, fired);
fail:
    Py_DECREF(fired);
    return NULL;
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
    DRAW_UNIT(args[0], args[1], u);
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
    DRAW_UNIT(args[0], args[1], u);
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
    DRAW_UNIT(args[0], args[1], u);
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
