/* _scan: the redaction engine's word scanner, in C (optional).
 *
 * The rules stay in Python (engine.py, spoken.py); this file only reads words. It does the
 * two jobs that otherwise cost the engine a chain of allocations per text: the gate (which
 * trigger words occur in a window) and the tokens a number is made of. Both read an ASCII
 * window of the lower-cased text once, byte by byte, and allocate only for what they return.
 *
 *   table(mapping)                 a word table: {word: bits} (str -> int), held in a capsule
 *   gate(table, lower, pos, end)   words of [a-z'] looked up in the table; see gate() below
 *   number_tokens(table, lower, pos, end)
 *                                  what NUMBER_TOKEN_RE.finditer(lower, pos, end) finds, for
 *                                  a table of the number words; see number_tokens() below
 *
 * Both return None when the window holds a character outside ASCII, and number_tokens also
 * when a word mixes digits or "_" with other characters ("5th", "a1234567"): the caller then
 * takes the Python path, which is the reference (tests/phi/test_redaction_native.py checks
 * that both agree).
 *
 * Invariants: every index is checked against the window, which is clamped to the string;
 * work is linear in the window (a word or piece longer than the table's longest word is
 * never hashed); nothing is kept between calls except the table.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define CAPSULE_NAME "phi.redaction._scan.table"

/* ---- the word table ------------------------------------------------------------------- */

typedef struct {
    PyObject *word;    /* the key (an ASCII str), owned; NULL marks an empty slot */
    const char *chars; /* its bytes (inside `word`, alive as long as it is) */
    Py_ssize_t len;
    long bits;
    /* Scratch for gate(): the call that last found this word and where it sits in that
     * call's hits. Written only while gate() reads the window, which calls no Python code,
     * so no other call can interleave (the GIL is held throughout). */
    uint64_t seen;
    Py_ssize_t hit;
} Entry;

typedef struct {
    Entry *slots;
    size_t mask;        /* slot count - 1 (a power of two, at least twice the words) */
    Py_ssize_t longest; /* no longer word can be in the table: skip it unhashed */
    uint64_t calls;     /* gate() calls so far: an Entry's `seen` is current if equal */
} Table;

static uint64_t
fnv1a(const unsigned char *s, Py_ssize_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The entry for s[0:n], or NULL. Linear probing; the table is at most half full, so a
 * probe always reaches an empty slot. */
static Entry *
lookup(const Table *t, const unsigned char *s, Py_ssize_t n)
{
    if (n <= 0 || n > t->longest)
        return NULL;
    size_t i = (size_t)fnv1a(s, n) & t->mask;
    while (t->slots[i].word != NULL) {
        Entry *e = &t->slots[i];
        if (e->len == n && memcmp(e->chars, s, (size_t)n) == 0)
            return e;
        i = (i + 1) & t->mask;
    }
    return NULL;
}

static void
table_free(PyObject *capsule)
{
    Table *t = PyCapsule_GetPointer(capsule, CAPSULE_NAME);
    if (t == NULL)
        return;
    for (size_t i = 0; i <= t->mask; i++)
        Py_XDECREF(t->slots[i].word);
    PyMem_Free(t->slots);
    PyMem_Free(t);
}

/* table(mapping) -> capsule. Keys that are not ASCII str are left out: no ASCII window
 * holds them. */
static PyObject *
scan_table(PyObject *module, PyObject *mapping)
{
    if (!PyDict_Check(mapping)) {
        PyErr_SetString(PyExc_TypeError, "table() takes a dict {word: bits}");
        return NULL;
    }
    size_t slots = 16;
    while (slots < 2 * (size_t)PyDict_Size(mapping) + 2)
        slots *= 2;
    Table *t = PyMem_Calloc(1, sizeof(Table));
    if (t == NULL)
        return PyErr_NoMemory();
    t->slots = PyMem_Calloc(slots, sizeof(Entry));
    if (t->slots == NULL) {
        PyMem_Free(t);
        return PyErr_NoMemory();
    }
    t->mask = slots - 1;
    PyObject *capsule = PyCapsule_New(t, CAPSULE_NAME, table_free);
    if (capsule == NULL) {
        PyMem_Free(t->slots);
        PyMem_Free(t);
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t it = 0;
    while (PyDict_Next(mapping, &it, &key, &value)) {
        if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key))
            continue;
        long bits = PyLong_AsLong(value);
        if (bits == -1 && PyErr_Occurred()) {
            Py_DECREF(capsule);
            return NULL;
        }
        const unsigned char *s = PyUnicode_1BYTE_DATA(key);
        Py_ssize_t n = PyUnicode_GET_LENGTH(key);
        if (n == 0 || lookup(t, s, n) != NULL)
            continue;
        size_t i = (size_t)fnv1a(s, n) & t->mask;
        while (t->slots[i].word != NULL)
            i = (i + 1) & t->mask;
        Py_INCREF(key);
        t->slots[i] = (Entry){key, (const char *)s, n, bits, 0, 0};
        if (n > t->longest)
            t->longest = n;
    }
    return capsule;
}

/* ---- arguments ------------------------------------------------------------------------ */

/* The table, and lower[pos:end] as bytes if the window is ASCII (else *ascii = 0). */
static int
parse_window(PyObject *const *args, Py_ssize_t nargs, const char *name, Table **t,
             const unsigned char **s, Py_ssize_t *pos, Py_ssize_t *end, int *ascii)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "%s(table, lower, pos, endpos)", name);
        return -1;
    }
    *t = PyCapsule_GetPointer(args[0], CAPSULE_NAME);
    if (*t == NULL)
        return -1;
    PyObject *lower = args[1];
    if (!PyUnicode_Check(lower)) {
        PyErr_Format(PyExc_TypeError, "%s: lower must be str", name);
        return -1;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(lower);
    *pos = PyLong_AsSsize_t(args[2]);
    if (*pos == -1 && PyErr_Occurred())
        return -1;
    *end = PyLong_AsSsize_t(args[3]);
    if (*end == -1 && PyErr_Occurred())
        return -1;
    /* Clamped as a slice is: 0 <= pos <= end <= size. */
    if (*end > size)
        *end = size;
    if (*pos < 0)
        *pos = 0;
    if (*pos > *end)
        *pos = *end;
    *ascii = 0;
    if (PyUnicode_KIND(lower) != PyUnicode_1BYTE_KIND)
        return 0; /* holds a character above U+00FF, maybe in this window: Python decides */
    *s = PyUnicode_1BYTE_DATA(lower);
    if (!PyUnicode_IS_ASCII(lower)) {
        for (Py_ssize_t i = *pos; i < *end; i++)
            if ((*s)[i] >= 128)
                return 0;
    }
    *ascii = 1;
    return 0;
}

static inline int
is_letter(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static inline int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ---- gate ----------------------------------------------------------------------------- */

/* What the gate found of one table word. */
typedef struct {
    const Entry *entry;
    Py_ssize_t pieces; /* how often it occurs as a piece */
} Hit;

typedef struct {
    Hit *items;
    Py_ssize_t n, cap;
    Hit local[32]; /* most windows need no more */
} Hits;

/* Record a look-up's result: a new hit, or one more piece of a known one (found through the
 * entry's scratch fields in constant time). */
static int
hits_add(Hits *h, uint64_t call, Entry *e, int is_piece)
{
    if (e == NULL)
        return 0;
    if (e->seen == call) {
        h->items[e->hit].pieces += is_piece;
        return 0;
    }
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap * 2;
        Hit *grown = PyMem_Malloc((size_t)cap * sizeof(Hit));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(grown, h->items, (size_t)h->n * sizeof(Hit));
        if (h->items != h->local)
            PyMem_Free(h->items);
        h->items = grown;
        h->cap = cap;
    }
    e->seen = call;
    e->hit = h->n;
    h->items[h->n++] = (Hit){e, is_piece};
    return 0;
}

/* gate(table, lower, pos, endpos)
 *   -> (bits, word_bits, has_digit, has_apostrophe, hits, counts) or None (not ASCII)
 *
 * The window's words are its runs of [a-z']; its pieces, the runs of [a-z] (the words split
 * at apostrophes); its tails, what follows each apostrophe inside a word, to the word's end.
 * Every word, piece and tail is looked up. hits: the table words found, each once (in the
 * order first found); counts[i]: how often hits[i] occurs as a piece. bits: OR of the hits'
 * bits; word_bits: OR over the words found whole. A word without an apostrophe is its own
 * single piece. */
static PyObject *
scan_gate(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Table *t;
    const unsigned char *s = NULL;
    Py_ssize_t pos, end;
    int ascii;
    if (parse_window(args, nargs, "gate", &t, &s, &pos, &end, &ascii) < 0)
        return NULL;
    if (!ascii)
        Py_RETURN_NONE;

    Hits h = {.n = 0, .cap = 32};
    h.items = h.local;
    uint64_t call = ++t->calls;
    long bits = 0, word_bits = 0;
    int has_digit = 0, has_apostrophe = 0;
    Py_ssize_t i = pos;
    while (i < end) {
        unsigned char c = s[i];
        if (!is_letter(c) && c != '\'') {
            has_digit |= is_digit(c);
            i++;
            continue;
        }
        /* A word: s[i:j], [a-z'] only. */
        Py_ssize_t j = i;
        int apostrophes = 0;
        while (j < end && (is_letter(s[j]) || s[j] == '\'')) {
            apostrophes += s[j] == '\'';
            j++;
        }
        Entry *whole = lookup(t, s + i, j - i);
        if (whole != NULL)
            word_bits |= whole->bits;
        if (hits_add(&h, call, whole, apostrophes == 0) < 0)
            goto fail;
        if (apostrophes) {
            has_apostrophe = 1;
            Py_ssize_t k = i;
            while (k < j) {
                if (s[k] == '\'') {
                    /* The tail after this apostrophe: s[k+1:j]. */
                    if (hits_add(&h, call, lookup(t, s + k + 1, j - k - 1), 0) < 0)
                        goto fail;
                    k++;
                    continue;
                }
                Py_ssize_t p = k; /* a piece: s[k:p], [a-z] only */
                while (p < j && s[p] != '\'')
                    p++;
                if (hits_add(&h, call, lookup(t, s + k, p - k), 1) < 0)
                    goto fail;
                k = p;
            }
        }
        i = j;
    }

    for (Py_ssize_t k = 0; k < h.n; k++)
        bits |= h.items[k].entry->bits;
    PyObject *words = PyList_New(h.n);
    PyObject *counts = words ? PyList_New(h.n) : NULL;
    if (counts == NULL) {
        Py_XDECREF(words);
        goto fail;
    }
    for (Py_ssize_t k = 0; k < h.n; k++) {
        PyObject *count = PyLong_FromSsize_t(h.items[k].pieces);
        if (count == NULL) {
            Py_DECREF(words);
            Py_DECREF(counts);
            goto fail;
        }
        Py_INCREF(h.items[k].entry->word);
        PyList_SET_ITEM(words, k, h.items[k].entry->word);
        PyList_SET_ITEM(counts, k, count);
    }
    if (h.items != h.local)
        PyMem_Free(h.items);
    return Py_BuildValue("llNNNN", bits, word_bits, PyBool_FromLong(has_digit),
                         PyBool_FromLong(has_apostrophe), words, counts);
fail:
    if (h.items != h.local)
        PyMem_Free(h.items);
    return NULL;
}

/* ---- number tokens -------------------------------------------------------------------- */

static int
append_token(PyObject *tokens, Py_ssize_t start, Py_ssize_t stop, PyObject *tok)
{
    if (tok == NULL)
        return -1;
    PyObject *item = Py_BuildValue("nnN", start, stop, tok);
    if (item == NULL)
        return -1;
    int failed = PyList_Append(tokens, item);
    Py_DECREF(item);
    return failed;
}

/* number_tokens(table, lower, pos, endpos) -> [(start, end, token), ...] or None
 *
 * Words here are runs of [a-z0-9_'] (NUMBER_TOKEN_RE's boundaries fall at \w and the
 * apostrophe). For a table of the number words, a word is
 *   - in the table: one token, itself;
 *   - all digits: one token, itself;
 *   - letters and apostrophes: its pieces between apostrophes that are in the table (the
 *     regex's words start after a non-word character and end at a word boundary, so inside
 *     such a word only a whole piece can match);
 *   - anything else (digits or "_" mixed with other characters): None for the whole window,
 *     the caller's regex reads it.
 * Tokens that are table words are the table's own str objects. */
static PyObject *
scan_number_tokens(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Table *t;
    const unsigned char *s = NULL;
    Py_ssize_t pos, end;
    int ascii;
    if (parse_window(args, nargs, "number_tokens", &t, &s, &pos, &end, &ascii) < 0)
        return NULL;
    if (!ascii)
        Py_RETURN_NONE;
    PyObject *lower = args[1];
    PyObject *tokens = PyList_New(0);
    if (tokens == NULL)
        return NULL;
    Py_ssize_t i = pos;
    while (i < end) {
        unsigned char c = s[i];
        if (!is_letter(c) && !is_digit(c) && c != '_' && c != '\'') {
            i++;
            continue;
        }
        Py_ssize_t j = i, digits = 0;
        while (j < end && (is_letter(s[j]) || is_digit(s[j]) || s[j] == '_' || s[j] == '\'')) {
            digits += is_digit(s[j]);
            j++;
        }
        const Entry *whole = lookup(t, s + i, j - i);
        if (whole != NULL) {
            Py_INCREF(whole->word);
            if (append_token(tokens, i, j, whole->word) < 0)
                goto fail;
        }
        else if (digits == j - i) {
            if (append_token(tokens, i, j, PyUnicode_Substring(lower, i, j)) < 0)
                goto fail;
        }
        else if (digits == 0 && memchr(s + i, '_', (size_t)(j - i)) == NULL) {
            /* letters and apostrophes: the pieces between apostrophes */
            Py_ssize_t k = i;
            while (k < j) {
                Py_ssize_t p = k;
                while (p < j && s[p] != '\'')
                    p++;
                const Entry *piece = p > k ? lookup(t, s + k, p - k) : NULL;
                if (piece != NULL) {
                    Py_INCREF(piece->word);
                    if (append_token(tokens, k, p, piece->word) < 0)
                        goto fail;
                }
                k = p + 1;
            }
        }
        else {
            Py_DECREF(tokens);
            Py_RETURN_NONE;
        }
        i = j;
    }
    return tokens;
fail:
    Py_DECREF(tokens);
    return NULL;
}

static PyMethodDef scan_methods[] = {
    {"table", (PyCFunction)scan_table, METH_O, "table(mapping) -> a word table"},
    {"gate", (PyCFunction)(void (*)(void))scan_gate, METH_FASTCALL,
     "gate(table, lower, pos, endpos) -> (bits, word_bits, has_digit, has_apostrophe, "
     "hits, counts) or None"},
    {"number_tokens", (PyCFunction)(void (*)(void))scan_number_tokens, METH_FASTCALL,
     "number_tokens(table, lower, pos, endpos) -> [(start, end, token)] or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "The redaction engine's word scanner (see _scan.c).", -1,
    scan_methods,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    return PyModule_Create(&scan_module);
}
