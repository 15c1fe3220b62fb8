/* _scan: the redaction engine's word scanner, in C (optional).
 *
 * The rules stay in Python (engine.py, spoken.py); this file only reads words. It does what
 * otherwise costs the engine a chain of calls and allocations per text: the gate (which
 * trigger words occur in a window), the tokens a number is made of (grouped into runs), the
 * capitalised words, the single letters and the words before a number. Each reads its window
 * once, byte by byte, and allocates only what it returns. Each function's comment names the
 * Python (a regex or a function) it answers for; that Python is the reference.
 *
 *   table(mapping)                        a word table {word: bits} (str -> int), in a capsule
 *   gate(table, text, lower, pos, end, mask1, mask2)
 *                                         the window's words looked up in the table
 *   number_tokens(table, lower, pos, end) what NUMBER_TOKEN_RE.finditer(lower, pos, end) finds,
 *                                         for a table of the number words
 *   number_runs(table, lower, pos, end, max_gap, max_tokens)
 *                                         those tokens grouped into runs as spoken.number_runs
 *                                         groups them
 *   cap_words(text, lower, pos, end)      what CAP_WORD_RE.finditer(text, pos, end) finds
 *   letters_alone(lower, pos, end)        where single letters stand (a spelling may start)
 *   cue_words(lower, pos, end)            the words engine._cue reads before a number
 *   as_instances(cls, tuples)             tuples made instances of a tuple subclass (Span)
 *
 * The readers return None when the window holds a character outside ASCII (cap_words and
 * letters_alone also when the string is wider than a byte a character; cue_words reads any
 * string), and the number readers also when a word mixes digits or "_" with letters in a way
 * they do not read ("99b", "a9c", "five_six"): the caller then takes the Python path.
 * tests/phi/test_redaction_native.py holds every function to its reference on the corpus, on
 * generated and hostile text, and on 1 MB inputs.
 *
 * Invariants: the window is clamped to the string and every index stays inside it; work is
 * linear in the window (a word longer than the table's longest is never hashed, and each
 * character is read a bounded number of times); nothing is kept between calls but the table
 * (and its scratch marks, see Entry).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define CAPSULE_NAME "phi.redaction._scan.table"

/* ---- characters ----------------------------------------------------------------------- */

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

/* A character of a number token's word: \w in ASCII lower case, and the apostrophe. */
static inline int
is_token_char(unsigned char c)
{
    return is_letter(c) || is_digit(c) || c == '_' || c == '\'';
}

/* ---- the word table ------------------------------------------------------------------- */

typedef struct {
    PyObject *word;    /* the key (an ASCII str), owned */
    const char *chars; /* its bytes (inside `word`, alive as long as it is) */
    Py_ssize_t len;
    long bits;
    /* Scratch for gate(): the call that last found this word and where it sits in that
     * call's hits. Written only while gate() reads the window, which calls no Python code,
     * so no other call can interleave (the GIL is held throughout). */
    uint64_t seen;
    Py_ssize_t hit;
} Entry;

/* A slot of the open-addressing index: a tag from the word's hash (never 0; 0 marks an
 * empty slot) and the entry's position. Slots are small so that a probe stays in cache. */
typedef struct {
    uint32_t tag;
    uint32_t entry;
} Slot;

#define FILTER_BITS 15 /* a filter of 2**15 bits (4 KB) */
#define FILTER_WORDS ((1u << FILTER_BITS) / 64)

typedef struct {
    Entry *entries;
    Py_ssize_t count;
    Slot *slots;
    size_t mask;        /* slot count - 1 (a power of two, at least twice the words) */
    Py_ssize_t longest; /* no longer word is in the table: such words are never hashed */
    uint64_t calls;     /* gate() calls so far: an Entry's `seen` is current if equal */
    /* A quick "certainly not in the table": bit min(len, 31) of lengths[a][b] is set when
     * some word of that length starts with the characters a, b (see prefix_slot). */
    uint32_t lengths[27][27];
    /* A second one, after hashing: bit (hash >> 49) is set for every word's hash. Small
     * enough to stay in cache, it spares most absent words a probe of the (larger) index. */
    uint64_t hash_bits[FILTER_WORDS];
} Table;

/* 0-25 for a letter, 26 for anything else (and for "no second character"). */
static inline int
prefix_slot(unsigned char c)
{
    return is_letter(c) ? c - 'a' : 26;
}

static inline uint32_t *
length_bits(Table *t, const unsigned char *s, Py_ssize_t n)
{
    return &t->lengths[prefix_slot(s[0])][n > 1 ? prefix_slot(s[1]) : 26];
}

static inline uint32_t
length_bit(Py_ssize_t n)
{
    return 1u << (n < 31 ? n : 31);
}

/* The hash of s[0:n]: eight bytes at a time, each block mixed by one multiplication. */
static inline uint64_t
word_hash(const unsigned char *s, Py_ssize_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL;
    for (Py_ssize_t i = 0; i < n; i += 8) {
        uint64_t block = 0;
        Py_ssize_t stop = n - i < 8 ? n - i : 8;
        for (Py_ssize_t k = 0; k < stop; k++)
            block |= (uint64_t)s[i + k] << (8 * k);
        h = (h ^ block) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 29;
    }
    return h;
}

static inline uint32_t
hash_tag(uint64_t h)
{
    return (uint32_t)(h >> 32) | 1u;
}

static inline int
same_bytes(const char *a, const unsigned char *b, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if ((unsigned char)a[i] != b[i])
            return 0;
    return 1;
}

static inline uint64_t *
filter_word(Table *t, uint64_t h, uint64_t *bit)
{
    uint32_t k = (uint32_t)(h >> (64 - FILTER_BITS));
    *bit = 1ULL << (k & 63);
    return &t->hash_bits[k >> 6];
}

/* The entry for s[0:n], or NULL. Linear probing; the index is at most half full, so a
 * probe always reaches an empty slot. */
static inline Entry *
lookup(Table *t, const unsigned char *s, Py_ssize_t n)
{
    if (n <= 0 || n > t->longest || !(*length_bits(t, s, n) & length_bit(n)))
        return NULL;
    uint64_t h = word_hash(s, n), bit;
    if (!(*filter_word(t, h, &bit) & bit))
        return NULL;
    uint32_t tag = hash_tag(h);
    for (size_t i = (size_t)h & t->mask; t->slots[i].tag != 0; i = (i + 1) & t->mask) {
        if (t->slots[i].tag == tag) {
            Entry *e = &t->entries[t->slots[i].entry];
            if (e->len == n && same_bytes(e->chars, s, n))
                return e;
        }
    }
    return NULL;
}

static void
table_free(PyObject *capsule)
{
    Table *t = PyCapsule_GetPointer(capsule, CAPSULE_NAME);
    if (t == NULL)
        return;
    for (Py_ssize_t i = 0; i < t->count; i++)
        Py_DECREF(t->entries[i].word);
    PyMem_Free(t->entries);
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
    Py_ssize_t words = PyDict_Size(mapping);
    if (words >= (Py_ssize_t)UINT32_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "table(): too many words");
        return NULL;
    }
    size_t slots = 16;
    while (slots < 2 * (size_t)words + 2)
        slots *= 2;
    Table *t = PyMem_Calloc(1, sizeof(Table));
    if (t == NULL)
        return PyErr_NoMemory();
    t->slots = PyMem_Calloc(slots, sizeof(Slot));
    t->entries = PyMem_Calloc((size_t)words + 1, sizeof(Entry));
    if (t->slots == NULL || t->entries == NULL) {
        PyMem_Free(t->slots);
        PyMem_Free(t->entries);
        PyMem_Free(t);
        return PyErr_NoMemory();
    }
    t->mask = slots - 1;
    PyObject *capsule = PyCapsule_New(t, CAPSULE_NAME, table_free);
    if (capsule == NULL) {
        PyMem_Free(t->slots);
        PyMem_Free(t->entries);
        PyMem_Free(t);
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t it = 0;
    while (PyDict_Next(mapping, &it, &key, &value)) {
        if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key))
            continue;
        /* (an int, read without calling back into Python: no code may change the dict
         * while it is walked) */
        if (!PyLong_Check(value)) {
            Py_DECREF(capsule);
            PyErr_SetString(PyExc_TypeError, "table(): the bits must be int");
            return NULL;
        }
        long bits = PyLong_AsLong(value);
        if (bits == -1 && PyErr_Occurred()) {
            Py_DECREF(capsule);
            return NULL;
        }
        const unsigned char *s = PyUnicode_1BYTE_DATA(key);
        Py_ssize_t n = PyUnicode_GET_LENGTH(key);
        if (n == 0 || t->count >= words)
            continue;
        /* (a dict's keys are distinct: no word is added twice) */
        uint64_t h = word_hash(s, n);
        size_t i = (size_t)h & t->mask;
        while (t->slots[i].tag != 0)
            i = (i + 1) & t->mask;
        t->slots[i] = (Slot){hash_tag(h), (uint32_t)t->count};
        t->entries[t->count++] = (Entry){Py_NewRef(key), (const char *)s, n, bits, 0, 0};
        *length_bits(t, s, n) |= length_bit(n);
        uint64_t bit;
        *filter_word(t, h, &bit) |= bit;
        if (n > t->longest)
            t->longest = n;
    }
    return capsule;
}

/* ---- arguments ------------------------------------------------------------------------ */

static int
parse_index(PyObject *arg, Py_ssize_t *out)
{
    *out = PyLong_AsSsize_t(arg);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* A window lower[base:base+n] as ASCII bytes: s[i] is lower[base + i]. The bytes are the
 * string's own when it is stored one byte per character, else a copy (`owned`). */
typedef struct {
    const unsigned char *s;
    Py_ssize_t base, n;
    unsigned char *owned;
} Window;

static void
window_release(Window *w)
{
    PyMem_Free(w->owned);
    w->owned = NULL;
}

/* The table and the window lower[pos:end], clamped as a slice is (0 <= pos <= end <= size).
 * -1: an error is set; 0: w->s is NULL when the window holds a character outside ASCII. */
static int
parse_window(PyObject *table, PyObject *lower, Py_ssize_t pos, Py_ssize_t end, const char *name,
             Table **t, Window *w)
{
    *t = PyCapsule_GetPointer(table, CAPSULE_NAME);
    if (*t == NULL)
        return -1;
    if (!PyUnicode_Check(lower)) {
        PyErr_Format(PyExc_TypeError, "%s: the text must be str", name);
        return -1;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(lower);
    if (end > size)
        end = size;
    if (pos < 0)
        pos = 0;
    if (pos > end)
        pos = end;
    *w = (Window){NULL, pos, end - pos, NULL};
    int kind = PyUnicode_KIND(lower);
    const void *data = PyUnicode_DATA(lower);
    if (kind == PyUnicode_1BYTE_KIND) {
        const unsigned char *bytes = (const unsigned char *)data + pos;
        if (!PyUnicode_IS_ASCII(lower)) {
            for (Py_ssize_t i = 0; i < w->n; i++)
                if (bytes[i] >= 128)
                    return 0;
        }
        w->s = bytes;
        return 0;
    }
    /* Two or four bytes per character: an ASCII window is copied into bytes. */
    for (Py_ssize_t i = 0; i < w->n; i++)
        if (PyUnicode_READ(kind, data, pos + i) >= 128)
            return 0;
    w->owned = PyMem_Malloc((size_t)(w->n > 0 ? w->n : 1));
    if (w->owned == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < w->n; i++)
        w->owned[i] = (unsigned char)PyUnicode_READ(kind, data, pos + i);
    w->s = w->owned;
    return 0;
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

/* text[pos:end] != lower[pos:end] for the window of lower (text has lower's length): does
 * the window hold a character that lower-casing changed? */
static int
window_changed(PyObject *text, const Window *w)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_1BYTE_KIND)
        return memcmp((const unsigned char *)data + w->base, w->s, (size_t)w->n) != 0;
    for (Py_ssize_t i = 0; i < w->n; i++)
        if (PyUnicode_READ(kind, data, w->base + i) != w->s[i])
            return 1;
    return 0;
}

static PyObject *
new_bool(int value)
{
    return Py_NewRef(value ? Py_True : Py_False);
}

/* How often the one hit with a bit among `mask` occurs as a piece: 0 when no hit has such a
 * bit, 2 when two or more hits have one ("two or more" is all the caller asks). */
static Py_ssize_t
count_for(const Hits *h, long mask)
{
    Py_ssize_t found = -1;
    for (Py_ssize_t k = 0; k < h->n; k++) {
        if (h->items[k].entry->bits & mask) {
            if (found >= 0)
                return 2;
            found = k;
        }
    }
    return found >= 0 ? h->items[found].pieces : 0;
}

/* gate(table, text, lower, pos, endpos, mask1, mask2)
 *   -> (bits, word_bits, has_digit, has_apostrophe, changed, hits, count1, count2) or None
 *
 * lower is text.lower() and has its length. The window's words are its runs of [a-z'];
 * its pieces, the runs of [a-z] (the words split at apostrophes); its tails, what follows
 * each apostrophe inside a word, to the word's end. Every word, piece and tail is looked up.
 * hits: the table words found, each once (a tuple, in the order first found). bits: OR of
 * the hits' bits; word_bits: OR over the words found whole; changed: text[pos:end] !=
 * lower[pos:end]. count1, count2: count_for(mask1), count_for(mask2), where a word without an
 * apostrophe is its own single piece. */
static PyObject *
scan_gate(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Table *t;
    Window w;
    Py_ssize_t pos, end;
    Py_ssize_t mask1, mask2;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "gate(table, text, lower, pos, endpos, mask1, mask2)");
        return NULL;
    }
    PyObject *text = args[1], *lower = args[2];
    if (parse_index(args[3], &pos) < 0 || parse_index(args[4], &end) < 0 ||
        parse_index(args[5], &mask1) < 0 || parse_index(args[6], &mask2) < 0 ||
        parse_window(args[0], lower, pos, end, "gate", &t, &w) < 0)
        return NULL;
    if (!PyUnicode_Check(text) || PyUnicode_GET_LENGTH(text) != PyUnicode_GET_LENGTH(lower)) {
        window_release(&w);
        PyErr_SetString(PyExc_ValueError, "gate: text and lower must be str of one length");
        return NULL;
    }
    if (w.s == NULL)
        Py_RETURN_NONE;

    const unsigned char *s = w.s;
    Py_ssize_t n = w.n;
    PyObject *result = NULL;
    Hits h; /* (fields set one by one: an initializer would clear all of `local`) */
    h.n = 0;
    h.cap = 32;
    h.items = h.local;
    uint64_t call = ++t->calls;
    long bits = 0, word_bits = 0;
    int has_digit = 0, has_apostrophe = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (!is_letter(c) && c != '\'') {
            has_digit |= is_digit(c);
            i++;
            continue;
        }
        /* A word: s[i:j], [a-z'] only. */
        Py_ssize_t j = i;
        int apostrophes = 0;
        while (j < n && (is_letter(s[j]) || s[j] == '\'')) {
            apostrophes += s[j] == '\'';
            j++;
        }
        Entry *whole = lookup(t, s + i, j - i);
        if (whole != NULL)
            word_bits |= whole->bits;
        if (hits_add(&h, call, whole, apostrophes == 0) < 0)
            goto done;
        if (apostrophes) {
            has_apostrophe = 1;
            Py_ssize_t k = i;
            while (k < j) {
                if (s[k] == '\'') {
                    /* The tail after this apostrophe: s[k+1:j]. */
                    if (hits_add(&h, call, lookup(t, s + k + 1, j - k - 1), 0) < 0)
                        goto done;
                    k++;
                    continue;
                }
                Py_ssize_t p = k; /* a piece: s[k:p], [a-z] only */
                while (p < j && s[p] != '\'')
                    p++;
                if (hits_add(&h, call, lookup(t, s + k, p - k), 1) < 0)
                    goto done;
                k = p;
            }
        }
        i = j;
    }
    for (Py_ssize_t k = 0; k < h.n; k++)
        bits |= h.items[k].entry->bits;

    /* From here on Python objects are made; the scratch fields are no longer read. */
    PyObject *words = PyTuple_New(h.n);
    if (words == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < h.n; k++)
        PyTuple_SET_ITEM(words, k, Py_NewRef(h.items[k].entry->word));
    PyObject *items[8] = {PyLong_FromLong(bits),
                          PyLong_FromLong(word_bits),
                          new_bool(has_digit),
                          new_bool(has_apostrophe),
                          new_bool(window_changed(text, &w)),
                          words,
                          PyLong_FromSsize_t(count_for(&h, (long)mask1)),
                          PyLong_FromSsize_t(count_for(&h, (long)mask2))};
    result = PyTuple_New(8);
    for (Py_ssize_t k = 0; k < 8; k++) {
        if (result != NULL && items[k] != NULL)
            PyTuple_SET_ITEM(result, k, items[k]);
        else
            Py_XDECREF(items[k]);
        if (items[k] == NULL)
            Py_CLEAR(result); /* (its items so far are released with it) */
    }
done:
    if (h.items != h.local)
        PyMem_Free(h.items);
    window_release(&w);
    return result;
}

/* ---- number tokens -------------------------------------------------------------------- */

/* A token: window bytes [start, end), a table word (`word`) or, with word NULL, digits. */
typedef struct {
    Py_ssize_t start, end;
    const Entry *word;
} Token;

/* Reads the tokens of a window one by one. Words here are runs of [a-z0-9_'] (the
 * characters NUMBER_TOKEN_RE's word boundaries depend on). For a table of the number words,
 * a word is
 *   - in the table: one token, itself;
 *   - all digits: one token, itself;
 *   - letters and apostrophes: its pieces between apostrophes that are in the table (the
 *     regex's words start after a non-word character and end at a word boundary, so inside
 *     such a word only a whole piece can match);
 *   - letters then digits: the digits; digits then st, nd, rd or th: itself;
 *   - anything else (digits or "_" mixed with other characters): the reader stops with -1
 *     and the caller's regex reads the window. */
typedef struct {
    Table *t;
    const unsigned char *s;
    Py_ssize_t n;        /* the window's length */
    Py_ssize_t i;        /* where reading goes on */
    Py_ssize_t word_end; /* while reading the pieces of a word: its end; else -1 */
} Reader;

static inline int
is_ordinal_suffix(unsigned char a, unsigned char b)
{
    return (a == 's' && b == 't') || (a == 'n' && b == 'd') || (a == 'r' && b == 'd') ||
           (a == 't' && b == 'h');
}

/* 1: *tok is the next token; 0: no more; -1: a mixed word (see Reader). */
static int
next_token(Reader *r, Token *tok)
{
    const unsigned char *s = r->s;
    for (;;) {
        while (r->word_end >= 0 && r->i < r->word_end) {
            Py_ssize_t k = r->i, p = k;
            while (p < r->word_end && s[p] != '\'')
                p++;
            r->i = p < r->word_end ? p + 1 : r->word_end;
            Entry *piece = lookup(r->t, s + k, p - k);
            if (piece != NULL) {
                *tok = (Token){k, p, piece};
                return 1;
            }
        }
        r->word_end = -1;
        while (r->i < r->n && !is_token_char(s[r->i]))
            r->i++;
        if (r->i >= r->n)
            return 0;
        Py_ssize_t i = r->i, j = i, digits = 0, others = 0;
        while (j < r->n && is_token_char(s[j])) {
            digits += is_digit(s[j]);
            others += s[j] == '_' || s[j] == '\'';
            j++;
        }
        Entry *whole = lookup(r->t, s + i, j - i);
        if (whole != NULL || digits == j - i) {
            r->i = j;
            *tok = (Token){i, j, whole};
            return 1;
        }
        if (digits > 0 && others == 0) {
            /* Two shapes of a word mixing letters and digits read as the regex reads them:
             * letters then digits ("xjh980017569": the digits are one token; no number word
             * can end before a digit, for want of a word boundary), and digits then an
             * ordinal suffix ("21st": one token). Any other mix goes to the regex. */
            Py_ssize_t k = i;
            while (k < j && is_letter(s[k]))
                k++;
            Py_ssize_t d = k;
            while (d < j && is_digit(s[d]))
                d++;
            if (k > i && d == j) {
                r->i = j;
                *tok = (Token){k, j, NULL};
                return 1;
            }
            if (k == i && d == j - 2 && is_ordinal_suffix(s[j - 2], s[j - 1])) {
                r->i = j;
                *tok = (Token){i, j, NULL};
                return 1;
            }
        }
        if (digits > 0 || memchr(s + i, '_', (size_t)(j - i)) != NULL)
            return -1;
        if (others == 0) { /* letters alone, not a number word */
            r->i = j;
            continue;
        }
        r->word_end = j; /* letters and apostrophes: read its pieces */
    }
}

/* The token's text: the table's own str for a word, a new str for digits. */
static PyObject *
token_text(PyObject *lower, const Window *w, const Token *tok)
{
    if (tok->word != NULL)
        return Py_NewRef(tok->word->word);
    return PyUnicode_Substring(lower, w->base + tok->start, w->base + tok->end);
}

/* Append a tuple of `n` new references to list; any NULL fails (and all are released). */
static int
append_tuple(PyObject *list, Py_ssize_t n, PyObject **items)
{
    PyObject *tuple = PyTuple_New(n);
    int failed = tuple == NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        failed |= items[k] == NULL;
        if (tuple != NULL)
            PyTuple_SET_ITEM(tuple, k, items[k]);
        else
            Py_XDECREF(items[k]);
    }
    if (failed) {
        Py_XDECREF(tuple);
        return -1;
    }
    failed = PyList_Append(list, tuple);
    Py_DECREF(tuple);
    return failed;
}

/* number_tokens(table, lower, pos, endpos) -> [(start, end, token), ...] or None */
static PyObject *
scan_number_tokens(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Table *t;
    Window w;
    Py_ssize_t pos, end;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "number_tokens(table, lower, pos, endpos)");
        return NULL;
    }
    PyObject *lower = args[1];
    if (parse_index(args[2], &pos) < 0 || parse_index(args[3], &end) < 0 ||
        parse_window(args[0], lower, pos, end, "number_tokens", &t, &w) < 0)
        return NULL;
    if (w.s == NULL)
        Py_RETURN_NONE;
    PyObject *tokens = PyList_New(0);
    Reader r = {t, w.s, w.n, 0, -1};
    Token tok;
    int more = 0;
    while (tokens != NULL && (more = next_token(&r, &tok)) == 1) {
        PyObject *items[3] = {PyLong_FromSsize_t(w.base + tok.start),
                              PyLong_FromSsize_t(w.base + tok.end), token_text(lower, &w, &tok)};
        if (append_tuple(tokens, 3, items) < 0)
            Py_CLEAR(tokens);
    }
    window_release(&w);
    if (tokens != NULL && more < 0) {
        Py_DECREF(tokens);
        Py_RETURN_NONE;
    }
    return tokens;
}

/* ---- number runs ---------------------------------------------------------------------- */

/* NUMBER_GAP_RE.fullmatch(s[a:b]) for a gap between two tokens of an ASCII window: pause
 * characters and the words "of", "the", "uh", "um", "and". (A letter run in a gap is a
 * whole word of the gap: the characters next to it are gap characters, and any that is not
 * a pause character fails the gap anyway.) */
static int
gap_ok(const unsigned char *s, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t i = a;
    while (i < b) {
        unsigned char c = s[i];
        if (c == ' ' || c == '\t' || c == ',' || c == '.' || c == '-' || c == '/' ||
            c == '(' || c == ')' || c == '+') {
            i++;
            continue;
        }
        if (!is_letter(c))
            return 0;
        Py_ssize_t j = i;
        while (j < b && is_letter(s[j]))
            j++;
        const char *word = (const char *)s + i;
        Py_ssize_t n = j - i;
        if (!((n == 2 && (memcmp(word, "of", 2) == 0 || memcmp(word, "uh", 2) == 0 ||
                          memcmp(word, "um", 2) == 0)) ||
              (n == 3 && (memcmp(word, "the", 3) == 0 || memcmp(word, "and", 3) == 0))))
            return 0;
        i = j;
    }
    return 1;
}

/* number_runs(table, lower, pos, endpos, max_gap, max_tokens)
 *   -> [[(start, end, token, is_digits, gap), ...], ...] or None
 *
 * The tokens of number_tokens() grouped as spoken.token_groups groups them: a token joins
 * the run before it when the gap since that run's last token is a single space, or is at
 * most max_gap long, passes gap_ok, and the run has fewer than max_tokens tokens. gap is
 * that text ("" for a run's first token). */
static PyObject *
scan_number_runs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Table *t;
    Window w;
    Py_ssize_t pos, end, max_gap, max_tokens;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "number_runs(table, lower, pos, endpos, max_gap, max_tokens)");
        return NULL;
    }
    PyObject *lower = args[1];
    if (parse_index(args[2], &pos) < 0 || parse_index(args[3], &end) < 0 ||
        parse_index(args[4], &max_gap) < 0 || parse_index(args[5], &max_tokens) < 0 ||
        parse_window(args[0], lower, pos, end, "number_runs", &t, &w) < 0)
        return NULL;
    if (w.s == NULL)
        Py_RETURN_NONE;
    const unsigned char *s = w.s;
    PyObject *runs = PyList_New(0);
    PyObject *run = NULL;
    Reader r = {t, s, w.n, 0, -1};
    Token tok;
    Py_ssize_t prev_end = 0;
    int more = 0;
    while (runs != NULL && (more = next_token(&r, &tok)) == 1) {
        PyObject *gap;
        if (run != NULL) {
            Py_ssize_t size = tok.start - prev_end;
            int space = size == 1 && s[prev_end] == ' ';
            if (!space && (size > max_gap || PyList_GET_SIZE(run) >= max_tokens ||
                           !gap_ok(s, prev_end, tok.start))) {
                if (PyList_Append(runs, run) < 0)
                    Py_CLEAR(runs);
                Py_CLEAR(run);
                if (runs == NULL)
                    break;
            }
        }
        if (run == NULL) {
            run = PyList_New(0);
            if (run == NULL) {
                Py_CLEAR(runs);
                break;
            }
            gap = PyUnicode_New(0, 0);
        }
        else {
            gap = PyUnicode_Substring(lower, w.base + prev_end, w.base + tok.start);
        }
        PyObject *items[5] = {PyLong_FromSsize_t(w.base + tok.start),
                              PyLong_FromSsize_t(w.base + tok.end), token_text(lower, &w, &tok),
                              new_bool(tok.word == NULL), gap};
        if (append_tuple(run, 5, items) < 0) {
            Py_CLEAR(runs);
            break;
        }
        prev_end = tok.end;
    }
    if (runs != NULL && run != NULL && more == 0 && PyList_Append(runs, run) < 0)
        Py_CLEAR(runs);
    Py_XDECREF(run);
    window_release(&w);
    if (runs != NULL && more < 0) {
        Py_DECREF(runs);
        Py_RETURN_NONE;
    }
    return runs;
}

/* ---- capitalised words ---------------------------------------------------------------- */

static inline int
is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

/* \w of an ASCII character (a str pattern's \w, restricted to ASCII). */
static inline int
is_ascii_word(unsigned char c)
{
    return is_letter(c) || is_upper(c) || is_digit(c) || c == '_';
}

/* The end of the run of [a-z] from i. */
static inline Py_ssize_t
lower_run(const unsigned char *s, Py_ssize_t n, Py_ssize_t i)
{
    while (i < n && is_letter(s[i]))
        i++;
    return i;
}

/* Where CAP_WORD_RE's match starting at the capital s[i] ends, or -1:
 *     [A-Z](?:[a-z]+(?:['\-][A-Z]?[a-z]+)?|'[A-Z][a-z]+|[a-z]?[A-Z][a-z]+)\b
 * tried as the regex engine tries it, alternative by alternative. Each [a-z]+ is greedy and
 * followed by \b or by a character that is not [a-z], so giving letters back never helps
 * (the character after a shorter run is a letter, which is neither), and only the maximal
 * run is tried. The window's end is a word boundary (as the regex's endpos is). */
static Py_ssize_t
cap_word_end(const unsigned char *s, Py_ssize_t n, Py_ssize_t i)
{
#define BOUNDARY(k) ((k) >= n || !is_ascii_word(s[k]))
    Py_ssize_t j = i + 1;
    /* [a-z]+ (?:['\-][A-Z]?[a-z]+)? \b */
    Py_ssize_t run = lower_run(s, n, j);
    if (run > j) {
        if (run < n && (s[run] == '\'' || s[run] == '-')) {
            Py_ssize_t q = run + 1;
            if (q < n && is_upper(s[q]))
                q++; /* ([A-Z]? taken; left out, [a-z]+ would start at a capital: no match) */
            Py_ssize_t r = lower_run(s, n, q);
            if (r > q && BOUNDARY(r))
                return r;
        }
        if (BOUNDARY(run))
            return run;
    }
    /* '[A-Z][a-z]+ \b */
    if (j + 1 < n && s[j] == '\'' && is_upper(s[j + 1])) {
        Py_ssize_t r = lower_run(s, n, j + 2);
        if (r > j + 2 && BOUNDARY(r))
            return r;
    }
    /* [a-z]?[A-Z][a-z]+ \b: one lower-case letter first, then none */
    if (j + 1 < n && is_letter(s[j]) && is_upper(s[j + 1])) {
        Py_ssize_t r = lower_run(s, n, j + 2);
        if (r > j + 2 && BOUNDARY(r))
            return r;
    }
    if (j < n && is_upper(s[j])) {
        Py_ssize_t r = lower_run(s, n, j + 1);
        if (r > j + 1 && BOUNDARY(r))
            return r;
    }
    return -1;
#undef BOUNDARY
}

/* cap_words(text, lower, pos, endpos) -> [(start, end, word), ...] or None
 *
 * What [(m.start(), m.end(), m.group().lower()) for m in CAP_WORD_RE.finditer(text, pos,
 * endpos)] gives, for a window of text that is ASCII (else None); lower is text.lower(),
 * of text's length. A match starts at a capital that no word character comes before (the
 * character before the window counts, as for the regex's lookbehind), and the search goes
 * on where a match ended, or one character on. */
static PyObject *
scan_cap_words(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t pos, end;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "cap_words(text, lower, pos, endpos)");
        return NULL;
    }
    PyObject *text = args[0], *lower = args[1];
    if (!PyUnicode_Check(text) || !PyUnicode_Check(lower) ||
        PyUnicode_GET_LENGTH(text) != PyUnicode_GET_LENGTH(lower)) {
        PyErr_SetString(PyExc_ValueError, "cap_words: text and lower must be str of one length");
        return NULL;
    }
    if (parse_index(args[2], &pos) < 0 || parse_index(args[3], &end) < 0)
        return NULL;
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (end > size)
        end = size;
    if (pos < 0)
        pos = 0;
    if (pos > end)
        pos = end;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    const unsigned char *s = PyUnicode_1BYTE_DATA(text) + pos;
    Py_ssize_t n = end - pos;
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] >= 128)
            Py_RETURN_NONE;
    /* The character before the window, for the lookbehind at its first position. */
    int word_before = pos > 0 && (PyUnicode_READ_CHAR(text, pos - 1) == '_' ||
                                  Py_UNICODE_ISALNUM(PyUnicode_READ_CHAR(text, pos - 1)));
    PyObject *words = PyList_New(0);
    Py_ssize_t i = 0;
    while (words != NULL && i < n) {
        int before = i > 0 ? is_ascii_word(s[i - 1]) : word_before;
        Py_ssize_t stop = is_upper(s[i]) && !before ? cap_word_end(s, n, i) : -1;
        if (stop < 0) {
            i++;
            continue;
        }
        PyObject *items[3] = {PyLong_FromSsize_t(pos + i), PyLong_FromSsize_t(pos + stop),
                              PyUnicode_Substring(lower, pos + i, pos + stop)};
        if (append_tuple(words, 3, items) < 0)
            Py_CLEAR(words);
        i = stop;
    }
    return words;
}

/* ---- letters standing alone ---------------------------------------------------------- */

/* A character the gate's byte table blanks (engine._WORD_BYTES maps it to a space): neither
 * [a-z'] nor a digit (a digit becomes a control character, not a blank). */
static inline int
is_blank_for_words(unsigned char c)
{
    return !is_letter(c) && c != '\'' && !is_digit(c);
}

/* letters_alone(lower, pos, endpos) -> [position, ...] or None (a window that is not ASCII)
 *
 * Where a letter stands alone in lower[pos:endpos]: a character of [a-z] with a blanked
 * character (see is_blank_for_words) or the window's edge on either side, in order. These are
 * the places a spelling ("s as in sam, m i t h") can start (engine._spellings). */
static PyObject *
scan_letters_alone(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t pos, end;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "letters_alone(lower, pos, endpos)");
        return NULL;
    }
    PyObject *lower = args[0];
    if (!PyUnicode_Check(lower)) {
        PyErr_SetString(PyExc_TypeError, "letters_alone: lower must be str");
        return NULL;
    }
    if (parse_index(args[1], &pos) < 0 || parse_index(args[2], &end) < 0)
        return NULL;
    Py_ssize_t size = PyUnicode_GET_LENGTH(lower);
    if (end > size)
        end = size;
    if (pos < 0)
        pos = 0;
    if (pos > end)
        pos = end;
    if (PyUnicode_KIND(lower) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    const unsigned char *s = PyUnicode_1BYTE_DATA(lower) + pos;
    Py_ssize_t n = end - pos;
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] >= 128)
            Py_RETURN_NONE;
    PyObject *found = PyList_New(0);
    for (Py_ssize_t i = 0; found != NULL && i < n; i++) {
        if (!is_letter(s[i]) || (i > 0 && !is_blank_for_words(s[i - 1])) ||
            (i + 1 < n && !is_blank_for_words(s[i + 1])))
            continue;
        PyObject *at = PyLong_FromSsize_t(pos + i);
        if (at == NULL || PyList_Append(found, at) < 0)
            Py_CLEAR(found);
        Py_XDECREF(at);
    }
    return found;
}

/* ---- cue words ------------------------------------------------------------------------ */

static inline int
is_cue_char(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || c == '#' || c == '\'';
}

/* cue_words(lower, pos, endpos) -> [word, ...]
 *
 * The runs of [a-z#'] in lower[pos:endpos], in order: what _CUE_SPLIT_RE.findall reads
 * (engine._cue looks for the cue word nearest a number among them). Any string: every other
 * character, ASCII or not, separates words. */
static PyObject *
scan_cue_words(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t pos, end;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "cue_words(lower, pos, endpos)");
        return NULL;
    }
    PyObject *lower = args[0];
    if (!PyUnicode_Check(lower)) {
        PyErr_SetString(PyExc_TypeError, "cue_words: lower must be str");
        return NULL;
    }
    if (parse_index(args[1], &pos) < 0 || parse_index(args[2], &end) < 0)
        return NULL;
    Py_ssize_t size = PyUnicode_GET_LENGTH(lower);
    if (end > size)
        end = size;
    if (pos < 0)
        pos = 0;
    if (pos > end)
        pos = end;
    int kind = PyUnicode_KIND(lower);
    const void *data = PyUnicode_DATA(lower);
    PyObject *words = PyList_New(0);
    Py_ssize_t i = pos;
    while (words != NULL && i < end) {
        if (!is_cue_char(PyUnicode_READ(kind, data, i))) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < end && is_cue_char(PyUnicode_READ(kind, data, j)))
            j++;
        PyObject *word = PyUnicode_Substring(lower, i, j);
        if (word == NULL || PyList_Append(words, word) < 0)
            Py_CLEAR(words);
        Py_XDECREF(word);
        i = j;
    }
    return words;
}

/* ---- spans ---------------------------------------------------------------------------- */

/* as_instances(cls, tuples) -> [cls instance, ...]
 *
 * Each tuple of the list made an instance of cls, a subclass of tuple without a __new__ of
 * its own that matters (a NamedTuple such as engine.Span): what tuple.__new__(cls, t) makes,
 * without a call through Python's machinery per span. */
static PyObject *
scan_as_instances(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyType_Check(args[0]) || !PyList_Check(args[1]) ||
        !PyType_IsSubtype((PyTypeObject *)args[0], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "as_instances(tuple subclass, list of tuples)");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *tuples = args[1];
    Py_ssize_t count = PyList_GET_SIZE(tuples);
    PyObject *out = PyList_New(count);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *t = PyList_GET_ITEM(tuples, i);
        if (!PyTuple_Check(t)) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError, "as_instances: an item is not a tuple");
            return NULL;
        }
        Py_ssize_t n = PyTuple_GET_SIZE(t);
        PyObject *obj = cls->tp_alloc(cls, n); /* (as tuple.__new__ does for a subclass) */
        if (obj == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        for (Py_ssize_t k = 0; k < n; k++)
            PyTuple_SET_ITEM(obj, k, Py_NewRef(PyTuple_GET_ITEM(t, k)));
        PyList_SET_ITEM(out, i, obj);
    }
    return out;
}

static PyMethodDef scan_methods[] = {
    {"table", (PyCFunction)scan_table, METH_O, "table(mapping) -> a word table"},
    {"gate", (PyCFunction)(void (*)(void))scan_gate, METH_FASTCALL,
     "gate(table, text, lower, pos, endpos, mask1, mask2) -> (bits, word_bits, has_digit, "
     "has_apostrophe, changed, hits, count1, count2) or None"},
    {"number_tokens", (PyCFunction)(void (*)(void))scan_number_tokens, METH_FASTCALL,
     "number_tokens(table, lower, pos, endpos) -> [(start, end, token)] or None"},
    {"cap_words", (PyCFunction)(void (*)(void))scan_cap_words, METH_FASTCALL,
     "cap_words(text, lower, pos, endpos) -> [(start, end, word)] or None"},
    {"as_instances", (PyCFunction)(void (*)(void))scan_as_instances, METH_FASTCALL,
     "as_instances(cls, tuples) -> [cls instance]"},
    {"cue_words", (PyCFunction)(void (*)(void))scan_cue_words, METH_FASTCALL,
     "cue_words(lower, pos, endpos) -> [word]"},
    {"letters_alone", (PyCFunction)(void (*)(void))scan_letters_alone, METH_FASTCALL,
     "letters_alone(lower, pos, endpos) -> [position] or None"},
    {"number_runs", (PyCFunction)(void (*)(void))scan_number_runs, METH_FASTCALL,
     "number_runs(table, lower, pos, endpos, max_gap, max_tokens) -> "
     "[[(start, end, token, is_digits, gap)]] or None"},
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
