/*
 * aebridge._native._kernels: the per-pixel loops of the convert path, in C.
 *
 * Each function here is the compiled form of one exact rule defined (and documented)
 * in Python beside its caller, and the tests check it against that rule bit for bit:
 *
 *   yuv_rgb    planar Y'CbCr to R'G'B' codes: ingest.moviepixels (ITU-T H.273 ranges,
 *              chroma interpolation, rounding half to even) -- the float64 operations
 *              are done in the same order as the numpy reference, so every result is
 *              the same double;
 *   lookup     out = table[index & mask], indexes past the table clipped to its end
 *              (numpy's take with mode="clip");
 *   gather2d   out[c] = table[c][value << 8 | alpha]: imaging's fused 8-bit tables;
 *   zip_split  EXR zip's byte split and delta predictor over blocks of scanlines:
 *              exr.scanlines (the OpenEXR file format's zip compressor).
 *
 * Arguments are buffers (numpy arrays or views): 1-D tables, 2-D planes whose rows
 * may be strided. Shapes and item sizes are checked here, so no call can read or
 * write outside its buffers; dtypes are the caller's business. The GIL is released
 * around every loop, so the threads of a convert run these in parallel.
 *
 * Built with -ffp-contract=off: a fused multiply-add would round once where numpy
 * rounds twice.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The hot loops are compiled twice, for AVX2 and for the baseline, and the loader
   picks one for the machine (GCC and Clang on x86-64 with glibc, whose loader
   resolves the choice); elsewhere once. */
#ifdef __FAST_MATH__
#error "aebridge._native must not be built with -ffast-math: it would change the rounding the exact rules rely on"
#endif
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

/* ------------------------------------------------------------------ buffers */

typedef struct {
    Py_buffer view;
    char *data;
    Py_ssize_t rows, cols, row_stride, col_stride, itemsize;
} Plane;

static void release(Plane *planes, int count) {
    for (int i = 0; i < count; i++) {
        if (planes[i].view.obj != NULL) {
            PyBuffer_Release(&planes[i].view);
            planes[i].view.obj = NULL;
        }
    }
}

/* A 1-D (table) or 2-D (plane) buffer; 1-D buffers are one row. */
static int get_plane(PyObject *obj, Plane *p, int writable, int ndim, const char *what) {
    int flags = PyBUF_STRIDES | (writable ? PyBUF_WRITABLE : 0);
    memset(p, 0, sizeof(*p));
    if (PyObject_GetBuffer(obj, &p->view, flags) < 0) {
        p->view.obj = NULL;
        return -1;
    }
    if (p->view.ndim != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must have %d dimension(s), not %d", what,
                     ndim, p->view.ndim);
        PyBuffer_Release(&p->view);
        p->view.obj = NULL;
        return -1;
    }
    p->data = (char *)p->view.buf;
    p->itemsize = p->view.itemsize;
    if (ndim == 1) {
        p->rows = 1;
        p->cols = p->view.shape[0];
        p->row_stride = 0;
        p->col_stride = p->view.strides[0];
    } else {
        p->rows = p->view.shape[0];
        p->cols = p->view.shape[1];
        p->row_stride = p->view.strides[0];
        p->col_stride = p->view.strides[1];
    }
    return 0;
}

static int check_itemsize(const Plane *p, Py_ssize_t a, Py_ssize_t b, const char *what) {
    if (p->itemsize != a && p->itemsize != b) {
        PyErr_Format(PyExc_ValueError, "%s has %zd-byte items; %zd or %zd expected",
                     what, p->itemsize, a, b);
        return -1;
    }
    return 0;
}

static int check_shape(const Plane *p, Py_ssize_t rows, Py_ssize_t cols,
                       const char *what) {
    if (p->rows != rows || p->cols != cols) {
        PyErr_Format(PyExc_ValueError, "%s is %zdx%zd; %zdx%zd expected", what,
                     p->cols, p->rows, cols, rows);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ yuv_rgb */

typedef struct {
    double y_offset, y_span, c_offset, c_span, scale;
    double k_r, k_gb, k_gr, k_b;
} YuvRule;

/* (code - offset) * scale / span: numpy's _scaled, operation for operation. */
static inline double scaled(unsigned code, double offset, double scale, double span) {
    double v = (double)code - offset;
    v *= scale;
    return v / span;
}

/* Per code value: luma, and the chroma terms (Cr in R, Cb and Cr in G, Cb in B). A
   table entry is the same double the formula gives for that code. */
typedef struct {
    double *luma, *r, *gb, *gr, *b;
} YuvTables;

static void build_tables(const YuvRule *k, unsigned codes, YuvTables *t) {
    for (unsigned c = 0; c < codes; c++) {
        t->luma[c] = scaled(c, k->y_offset, k->scale, k->y_span);
        double chroma = scaled(c, k->c_offset, k->scale, k->c_span);
        t->r[c] = chroma * k->k_r;
        t->gb[c] = chroma * k->k_gb;
        t->gr[c] = chroma * k->k_gr;
        t->b[c] = chroma * k->k_b;
    }
}

#define CODE(p, r, c, T) (*(const T *)((p)->data + (r) * (p)->row_stride + (c) * (p)->col_stride))

/* The three chroma terms of chroma row j, at chroma resolution. */
static void chroma_terms(const Plane *cb, const Plane *cr, Py_ssize_t j,
                         const YuvTables *t, double *tr, double *tg, double *tb) {
    Py_ssize_t n = cb->cols;
    if (cb->itemsize == 1) {
        for (Py_ssize_t i = 0; i < n; i++) {
            uint8_t b = CODE(cb, j, i, uint8_t), r = CODE(cr, j, i, uint8_t);
            tr[i] = t->r[r];
            tg[i] = t->gb[b] + t->gr[r];
            tb[i] = t->b[b];
        }
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            uint16_t b = CODE(cb, j, i, uint16_t), r = CODE(cr, j, i, uint16_t);
            tr[i] = t->r[r];
            tg[i] = t->gb[b] + t->gr[r];
            tb[i] = t->b[b];
        }
    }
}

/* A chroma-resolution term row brought to full width: co-sited samples kept, the
   pixel between two samples their mean ((right + left) * 0.5, the last repeated). */
static void widen(const double *term, Py_ssize_t n, double *wide, Py_ssize_t width) {
    if (n == width) {
        memcpy(wide, term, (size_t)width * sizeof(double));
        return;
    }
    for (Py_ssize_t x = 0; x + 1 < width; x += 2) {
        Py_ssize_t i = x >> 1;
        double right = term[i + 1 < n ? i + 1 : n - 1];
        right += term[i];
        wide[x] = term[i];
        wide[x + 1] = right * 0.5;
    }
    if (width & 1) {
        wide[width - 1] = term[(width - 1) >> 1];
    }
}

/* A chroma row's slot: its wide terms, or (vertical subsampling) 0.25 and 0.75 of
   them, the shares of the far and the near row. */
typedef struct {
    Py_ssize_t row;
    double *quarter, *three; /* 3 x width each; `three` is the terms themselves
                                when there is no vertical interpolation */
} Slot;

HOT static void fill_slot(const Plane *cb, const Plane *cr, Py_ssize_t j,
                      const YuvTables *t, int vertical, double *narrow, Slot *s,
                      Py_ssize_t width) {
    Py_ssize_t n = cb->cols;
    chroma_terms(cb, cr, j, t, narrow, narrow + n, narrow + 2 * n);
    for (int c = 0; c < 3; c++) {
        double *wide = s->three + c * width;
        widen(narrow + c * n, n, wide, width);
        if (vertical) {
            double *q = s->quarter + c * width;
            for (Py_ssize_t x = 0; x < width; x++) {
                q[x] = wide[x] * 0.25;
                wide[x] = wide[x] * 0.75;
            }
        }
    }
}

/* Round half to even for 0 <= v < 2**51: adding 2**52 leaves no fraction bits, and
   the addition rounds to nearest even (numpy's rint); negative values (which clamp
   to 0 after) come out as some integer <= 0. */
#define TWO52 4503599627370496.0

/* Rounded first, then clipped to 0..top: the same integer as clipping first, since
   rounding is monotonic and the bounds are integers (and integer compares are what
   the loop vectorizes to). */
#define STORE_LOOP(T, TERM)                                                     \
    for (Py_ssize_t x = 0; x < width; x++) {                                    \
        double v = luma[x] + (TERM);                                            \
        int32_t i = (int32_t)((v + TWO52) - TWO52);                             \
        i = i < 0 ? 0 : i;                                                      \
        i = i > itop ? itop : i;                                                \
        o[x * os] = (T)i;                                                       \
    }

#define STORE_ROW(T)                                                            \
    do {                                                                        \
        T *restrict o = (T *)(out->data + row * out->row_stride);               \
        const int32_t itop = (int32_t)top;                                      \
        Py_ssize_t os = out->col_stride / (Py_ssize_t)sizeof(T);                \
        if (os == 1 && far != NULL) {                                           \
            const Py_ssize_t os = 1;                                            \
            STORE_LOOP(T, far[x] + near[x])                                     \
        } else if (os == 1) {                                                   \
            const Py_ssize_t os = 1;                                            \
            STORE_LOOP(T, near[x])                                              \
        } else if (far != NULL) {                                               \
            STORE_LOOP(T, far[x] + near[x])                                     \
        } else {                                                                \
            STORE_LOOP(T, near[x])                                              \
        }                                                                       \
    } while (0)

/* One output row of one channel: luma + (far + near | the terms), clipped,
   rounded half to even. */
HOT static void store_row(const double *restrict luma, const double *restrict far,
                      const double *restrict near,
                      double top, const Plane *out, Py_ssize_t row, Py_ssize_t width) {
    if (out->itemsize == 1) {
        STORE_ROW(uint8_t);
    } else {
        STORE_ROW(uint16_t);
    }
}

static PyObject *yuv_rgb(PyObject *self, PyObject *args) {
    PyObject *o_y, *o_cb, *o_cr, *o_r, *o_g, *o_b;
    YuvRule k;
    if (!PyArg_ParseTuple(args, "OOOOOO(ddddddddd):yuv_rgb", &o_y, &o_cb, &o_cr, &o_r,
                          &o_g, &o_b, &k.y_offset, &k.y_span, &k.c_offset, &k.c_span,
                          &k.scale, &k.k_r, &k.k_gb, &k.k_gr, &k.k_b)) {
        return NULL;
    }
    Plane p[6];
    memset(p, 0, sizeof(p));
    PyObject *objs[6] = {o_y, o_cb, o_cr, o_r, o_g, o_b};
    const char *names[6] = {"Y", "Cb", "Cr", "R", "G", "B"};
    for (int i = 0; i < 6; i++) {
        if (get_plane(objs[i], &p[i], i >= 3, 2, names[i]) < 0) {
            release(p, 6);
            return NULL;
        }
    }
    Py_ssize_t height = p[0].rows, width = p[0].cols;
    Py_ssize_t ch = p[1].rows, cw = p[1].cols;
    int ok = check_itemsize(&p[0], 1, 2, "Y") == 0 &&
             check_itemsize(&p[1], p[0].itemsize, p[0].itemsize, "Cb") == 0 &&
             check_itemsize(&p[2], p[0].itemsize, p[0].itemsize, "Cr") == 0 &&
             check_shape(&p[2], ch, cw, "Cr") == 0;
    for (int i = 3; ok && i < 6; i++) {
        ok = check_itemsize(&p[i], 1, 2, names[i]) == 0 &&
             check_itemsize(&p[i], p[3].itemsize, p[3].itemsize, names[i]) == 0 &&
             check_shape(&p[i], height, width, names[i]) == 0;
        if (ok && p[i].col_stride % p[i].itemsize != 0) {
            PyErr_SetString(PyExc_ValueError, "out items are not aligned");
            ok = 0;
        }
    }
    if (ok && !((cw == width || cw == (width + 1) / 2) &&
                (ch == height || ch == (height + 1) / 2))) {
        PyErr_Format(PyExc_ValueError,
                     "chroma planes are %zdx%zd; full or half of %zdx%zd expected", cw,
                     ch, width, height);
        ok = 0;
    }
    if (!ok || width == 0 || height == 0) {
        release(p, 6);
        if (ok) {
            Py_RETURN_NONE;
        }
        return NULL;
    }
    int vertical = ch < height;
    double top = p[3].itemsize == 1 ? 255.0 : 65535.0;
    double constants[9] = {k.y_offset, k.y_span, k.c_offset, k.c_span, k.scale,
                           k.k_r, k.k_gb, k.k_gr, k.k_b};
    for (int i = 0; i < 9; i++) {
        /* finite, and small enough that every sum stays far inside int32 */
        if (!(constants[i] > -1e6 && constants[i] < 1e6)) {
            ok = 0;
        }
    }
    if (!ok || k.scale != top || k.y_span <= 0.0 || k.c_span <= 0.0) {
        PyErr_Format(PyExc_ValueError,
                     "the rule must be finite, with positive spans and the output's "
                     "full scale (%g)", top);
        release(p, 6);
        return NULL;
    }
    unsigned codes = p[0].itemsize == 1 ? 256u : 65536u;
    /* tables (5 x codes), narrow terms (3 x cw), three slots of 2 x 3 x width, luma */
    size_t doubles = 5 * (size_t)codes + 3 * (size_t)cw + 19 * (size_t)width;
    double *work = PyMem_RawMalloc(doubles * sizeof(double));
    if (work == NULL) {
        release(p, 6);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS;
    YuvTables t = {work, work + codes, work + 2 * codes, work + 3 * codes,
                   work + 4 * codes};
    build_tables(&k, codes, &t);
    double *narrow = work + 5 * codes;
    double *rest = narrow + 3 * cw;
    Slot slots[3];
    for (int s = 0; s < 3; s++) {
        slots[s].row = -1;
        slots[s].three = rest + (size_t)s * 6 * width;
        slots[s].quarter = slots[s].three + 3 * width;
    }
    double *luma = rest + 18 * width;
    for (Py_ssize_t y = 0; y < height; y++) {
        Py_ssize_t j = vertical ? y >> 1 : y;
        Py_ssize_t other = j;
        if (vertical) {
            other = (y & 1) ? (j + 1 < ch ? j + 1 : ch - 1) : (j > 0 ? j - 1 : 0);
        }
        Py_ssize_t want[2] = {j, other};
        Slot *got[2] = {NULL, NULL};
        for (int w = 0; w < 2; w++) {
            for (int s = 0; s < 3; s++) {
                if (slots[s].row == want[w]) {
                    got[w] = &slots[s];
                }
            }
        }
        for (int w = 0; w < 2; w++) {
            if (w == 1 && want[1] == want[0]) {
                got[1] = got[0]; /* no vertical interpolation: one row */
            }
            for (int s = 0; got[w] == NULL && s < 3; s++) {
                if (slots[s].row != want[0] && slots[s].row != want[1]) {
                    fill_slot(&p[1], &p[2], want[w], &t, vertical, narrow, &slots[s],
                              width);
                    slots[s].row = want[w];
                    got[w] = &slots[s];
                }
            }
        }
        if (p[0].itemsize == 1) {
            for (Py_ssize_t x = 0; x < width; x++) {
                luma[x] = t.luma[CODE(&p[0], y, x, uint8_t)];
            }
        } else {
            for (Py_ssize_t x = 0; x < width; x++) {
                luma[x] = t.luma[CODE(&p[0], y, x, uint16_t)];
            }
        }
        for (int c = 0; c < 3; c++) {
            const double *near = got[0]->three + c * width;
            const double *far = vertical ? got[1]->quarter + c * width : NULL;
            store_row(luma, far, near, top, &p[3 + c], y, width);
        }
    }
    Py_END_ALLOW_THREADS;
    PyMem_RawFree(work);
    release(p, 6);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------- lookup */

/* out = table[index & mask], clipped to the table, for one table item size. */
#define LOOKUP_PLANE(NAME, T)                                                   \
    static void NAME(const Plane *table, const Plane *index, const Plane *out,  \
                     unsigned mask) {                                           \
        const T *t = (const T *)table->data;                                    \
        unsigned last = (unsigned)(table->cols - 1);                            \
        Py_ssize_t os = out->col_stride / (Py_ssize_t)sizeof(T);                \
        for (Py_ssize_t y = 0; y < index->rows; y++) {                          \
            T *o = (T *)(out->data + y * out->row_stride);                      \
            const char *in = index->data + y * index->row_stride;               \
            Py_ssize_t is = index->col_stride;                                  \
            if (index->itemsize == 1) {                                         \
                for (Py_ssize_t x = 0; x < index->cols; x++) {                  \
                    unsigned i = *(const uint8_t *)(in + x * is) & mask;        \
                    o[x * os] = t[i > last ? last : i];                         \
                }                                                               \
            } else {                                                            \
                for (Py_ssize_t x = 0; x < index->cols; x++) {                  \
                    unsigned i = *(const uint16_t *)(in + x * is) & mask;       \
                    o[x * os] = t[i > last ? last : i];                         \
                }                                                               \
            }                                                                   \
        }                                                                       \
    }

LOOKUP_PLANE(lookup_plane_1, uint8_t)
LOOKUP_PLANE(lookup_plane_2, uint16_t)
LOOKUP_PLANE(lookup_plane_4, uint32_t)

static PyObject *lookup(PyObject *self, PyObject *args) {
    PyObject *o_table, *o_index, *o_out;
    unsigned long mask;
    if (!PyArg_ParseTuple(args, "OOOk:lookup", &o_table, &o_index, &o_out, &mask)) {
        return NULL;
    }
    Plane p[3];
    memset(p, 0, sizeof(p));
    if (get_plane(o_table, &p[0], 0, 1, "table") < 0 ||
        get_plane(o_index, &p[1], 0, 2, "index") < 0 ||
        get_plane(o_out, &p[2], 1, 2, "out") < 0) {
        release(p, 3);
        return NULL;
    }
    Py_ssize_t isz = p[0].itemsize;
    if (isz != 1 && isz != 2 && isz != 4) {
        PyErr_Format(PyExc_ValueError, "table has %zd-byte items; 1, 2 or 4 expected", isz);
        release(p, 3);
        return NULL;
    }
    if (check_itemsize(&p[1], 1, 2, "index") < 0 ||
        check_itemsize(&p[2], isz, isz, "out") < 0 ||
        check_shape(&p[2], p[1].rows, p[1].cols, "out") < 0 || p[0].cols == 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "the table is empty");
        }
        release(p, 3);
        return NULL;
    }
    if (p[0].col_stride != isz || p[2].col_stride % isz != 0) {
        PyErr_SetString(PyExc_ValueError, "the table must be contiguous, out aligned");
        release(p, 3);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS;
    if (isz == 1) {
        lookup_plane_1(&p[0], &p[1], &p[2], (unsigned)mask);
    } else if (isz == 2) {
        lookup_plane_2(&p[0], &p[1], &p[2], (unsigned)mask);
    } else {
        lookup_plane_4(&p[0], &p[1], &p[2], (unsigned)mask);
    }
    Py_END_ALLOW_THREADS;
    release(p, 3);
    Py_RETURN_NONE;
}

/* ----------------------------------------------------------------- gather2d */

#define GATHER(T)                                                               \
    for (Py_ssize_t y = 0; y < rows; y++) {                                     \
        const uint8_t *v = (const uint8_t *)(value->data + y * value->row_stride); \
        const uint8_t *a = (const uint8_t *)(alpha->data + y * alpha->row_stride); \
        T *o = (T *)(out->data + y * out->row_stride);                          \
        const T *t = (const T *)table->data;                                    \
        Py_ssize_t vs = value->col_stride, as = alpha->col_stride;              \
        Py_ssize_t os = out->col_stride / (Py_ssize_t)sizeof(T);                \
        for (Py_ssize_t x = 0; x < cols; x++) {                                 \
            o[x * os] = t[((unsigned)v[x * vs] << 8) | a[x * as]];              \
        }                                                                       \
    }

static void gather_plane(const Plane *table, const Plane *value, const Plane *alpha,
                         const Plane *out) {
    Py_ssize_t rows = value->rows, cols = value->cols;
    if (table->itemsize == 2) {
        GATHER(uint16_t)
    } else {
        GATHER(uint32_t)
    }
}

static PyObject *gather2d(PyObject *self, PyObject *args) {
    PyObject *o_tables, *o_values, *o_alpha, *o_outs;
    if (!PyArg_ParseTuple(args, "O!O!OO!:gather2d", &PyTuple_Type, &o_tables,
                          &PyTuple_Type, &o_values, &o_alpha, &PyTuple_Type, &o_outs)) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(o_values);
    Py_ssize_t nt = PyTuple_GET_SIZE(o_tables);
    if (n < 1 || n > 3 || PyTuple_GET_SIZE(o_outs) != n || (nt != 1 && nt != n)) {
        PyErr_SetString(PyExc_ValueError,
                        "gather2d takes 1 to 3 value planes, as many out planes, and "
                        "one table or one per plane");
        return NULL;
    }
    Plane p[10]; /* tables 0..2, values 3..5, outs 6..8, alpha 9 */
    memset(p, 0, sizeof(p));
    int ok = get_plane(o_alpha, &p[9], 0, 2, "alpha") == 0 &&
             check_itemsize(&p[9], 1, 1, "alpha") == 0;
    for (Py_ssize_t i = 0; ok && i < nt; i++) {
        ok = get_plane(PyTuple_GET_ITEM(o_tables, i), &p[i], 0, 1, "table") == 0 &&
             check_itemsize(&p[i], 2, 4, "table") == 0;
        if (ok && (p[i].cols != 65536 || p[i].col_stride != p[i].itemsize)) {
            PyErr_SetString(PyExc_ValueError, "a table has 65536 contiguous entries");
            ok = 0;
        }
    }
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        const Plane *t = &p[nt == 1 ? 0 : i];
        ok = get_plane(PyTuple_GET_ITEM(o_values, i), &p[3 + i], 0, 2, "value") == 0 &&
             check_itemsize(&p[3 + i], 1, 1, "value") == 0 &&
             check_shape(&p[3 + i], p[9].rows, p[9].cols, "value") == 0 &&
             get_plane(PyTuple_GET_ITEM(o_outs, i), &p[6 + i], 1, 2, "out") == 0 &&
             check_itemsize(&p[6 + i], t->itemsize, t->itemsize, "out") == 0 &&
             check_shape(&p[6 + i], p[9].rows, p[9].cols, "out") == 0;
        if (ok && p[6 + i].col_stride % p[6 + i].itemsize != 0) {
            PyErr_SetString(PyExc_ValueError, "out items are not aligned");
            ok = 0;
        }
    }
    if (!ok) {
        release(p, 10);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS;
    for (Py_ssize_t i = 0; i < n; i++) {
        gather_plane(&p[nt == 1 ? 0 : i], &p[3 + i], &p[9], &p[6 + i]);
    }
    Py_END_ALLOW_THREADS;
    release(p, 10);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- zip_split */

/* One row's bytes into the two streams, each byte stored as its difference from
   the byte before it in its stream + 128 (mod 256). */
HOT static void split_row(const uint8_t *restrict src, Py_ssize_t count,
                          uint8_t *restrict even, uint8_t *restrict odd,
                          uint8_t even_prev, uint8_t odd_prev) {
    if (count == 0) {
        return;
    }
    even[0] = (uint8_t)(src[0] - even_prev + 128);
    odd[0] = (uint8_t)(src[1] - odd_prev + 128);
    for (Py_ssize_t x = 1; x < count; x++) {
        even[x] = (uint8_t)(src[2 * x] - src[2 * x - 2] + 128);
        odd[x] = (uint8_t)(src[2 * x + 1] - src[2 * x - 1] + 128);
    }
}

static PyObject *zip_split(PyObject *self, PyObject *args) {
    PyObject *o_planes, *o_out;
    Py_ssize_t lines;
    if (!PyArg_ParseTuple(args, "O!nO:zip_split", &PyTuple_Type, &o_planes, &lines,
                          &o_out)) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(o_planes);
    if (n < 1 || n > 64 || lines < 1) {
        PyErr_SetString(PyExc_ValueError, "zip_split takes 1 to 64 planes and lines >= 1");
        return NULL;
    }
    Plane *p = PyMem_Calloc((size_t)n + 1, sizeof(Plane));
    if (p == NULL) {
        return PyErr_NoMemory();
    }
    int ok = get_plane(o_out, &p[n], 1, 2, "out") == 0 &&
             check_itemsize(&p[n], 1, 1, "out") == 0;
    if (ok && p[n].col_stride != 1) {
        PyErr_SetString(PyExc_ValueError, "out rows must be contiguous");
        ok = 0;
    }
    Py_ssize_t rows = 0, cols = 0, row_bytes = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        ok = get_plane(PyTuple_GET_ITEM(o_planes, i), &p[i], 0, 2, "plane") == 0 &&
             check_itemsize(&p[i], 2, 4, "plane") == 0;
        if (ok && p[i].col_stride != p[i].itemsize) {
            PyErr_SetString(PyExc_ValueError, "plane rows must be contiguous");
            ok = 0;
        }
        if (ok && i == 0) {
            rows = p[0].rows;
            cols = p[0].cols;
        }
        ok = ok && check_shape(&p[i], rows, cols, "plane") == 0;
        row_bytes += ok ? cols * p[i].itemsize : 0;
    }
    if (ok && cols == 0) {
        PyErr_SetString(PyExc_ValueError, "planes have no columns");
        ok = 0;
    }
    if (ok && (rows % lines != 0 || p[n].rows != rows / lines ||
               p[n].cols != lines * row_bytes)) {
        PyErr_Format(PyExc_ValueError,
                     "out must be %zd blocks of %zd bytes (planes of %zd rows, %zd "
                     "lines a block)",
                     rows / lines, lines * row_bytes, rows, lines);
        ok = 0;
    }
    if (!ok) {
        release(p, (int)n + 1);
        PyMem_Free(p);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS;
    Py_ssize_t half = lines * row_bytes / 2;
    for (Py_ssize_t b = 0; b < rows / lines; b++) {
        const uint8_t *last_row = (const uint8_t *)(p[n - 1].data +
                                                    (b * lines + lines - 1) * p[n - 1].row_stride);
        /* The even stream starts the block (its first byte is stored as is: a
           predecessor of 128); the odd stream follows the block's last even byte. */
        uint8_t even_prev = 128;
        uint8_t odd_prev = last_row[cols * p[n - 1].itemsize - 2];
        uint8_t *even = (uint8_t *)(p[n].data + b * p[n].row_stride);
        uint8_t *odd = even + half;
        /* Each row of each channel has an even number of bytes, so the parity of a
           byte in the raw block is its parity in its row. */
        for (Py_ssize_t l = 0; l < lines; l++) {
            for (Py_ssize_t i = 0; i < n; i++) {
                const uint8_t *src =
                    (const uint8_t *)(p[i].data + (b * lines + l) * p[i].row_stride);
                Py_ssize_t count = cols * p[i].itemsize / 2;
                split_row(src, count, even, odd, even_prev, odd_prev);
                even_prev = src[2 * count - 2];
                odd_prev = src[2 * count - 1];
                even += count;
                odd += count;
            }
        }
    }
    Py_END_ALLOW_THREADS;
    release(p, (int)n + 1);
    PyMem_Free(p);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"yuv_rgb", yuv_rgb, METH_VARARGS,
     "yuv_rgb(y, cb, cr, r, g, b, rule): planar Y'CbCr codes to R'G'B' codes."},
    {"lookup", lookup, METH_VARARGS,
     "lookup(table, index, out, mask): out = table[index & mask], clipped."},
    {"gather2d", gather2d, METH_VARARGS,
     "gather2d(tables, values, alpha, outs): out[c] = table[c][value << 8 | alpha]."},
    {"zip_split", zip_split, METH_VARARGS,
     "zip_split(planes, lines, out): EXR zip's byte split and predictor per block."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "aebridge._native._kernels",
    "aebridge's per-pixel loops in C (see aebridge/_native/__init__.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
