/* Command words: shell-like splitting and quoting, without expansions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aie/error.h"
#include "aie/util.h"
#include "batch_internal.h"

void aie_buf_add(Buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void aie_buf_puts(Buf *b, const char *s) { aie_buf_add(b, s, strlen(s)); }

void aie_buf_putc(Buf *b, char c) { aie_buf_add(b, &c, 1); }

void aie_buf_printf(Buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        aie_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    aie_buf_add(b, big, (size_t)n);
    free(big);
}

char *aie_buf_take(Buf *b)
{
    char *s = b->oom ? NULL : b->s;
    if (!s && !b->oom)
        s = calloc(1, 1);
    if (b->oom)
        free(b->s);
    *b = (Buf){0};
    return s;
}

void aie_buf_free(Buf *b)
{
    free(b->s);
    *b = (Buf){0};
}

double aie_batch_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void aie_batch_words_free(char ***words)
{
    if (!*words)
        return;
    for (char **w = *words; *w; w++)
        free(*w);
    free(*words);
    *words = NULL;
}

static int push_word(char ***words, int *n, int *cap, Buf *cur)
{
    if (*n + 2 > *cap) {
        int nc = *cap ? *cap * 2 : 8;
        char **p = realloc(*words, (size_t)nc * sizeof(*p));
        if (!p)
            return AIE_ENOMEM;
        *words = p;
        *cap = nc;
        p[*n] = NULL; /* a valid list even when the word below fails */
    }
    char *w = aie_buf_take(cur);
    if (!w)
        return AIE_ENOMEM;
    (*words)[(*n)++] = w;
    (*words)[*n] = NULL;
    return 0;
}

static void where(char *err, size_t errlen, const char *name, int line, const char *what)
{
    if (name && line > 0)
        aie_errf(err, errlen, "%s:%d: %s", name, line, what);
    else if (line > 0)
        aie_errf(err, errlen, "line %d: %s", line, what);
    else
        aie_errf(err, errlen, "%s%s%s", name ? name : "", name ? ": " : "", what);
}

int aie_words_next(const char *t, size_t len, size_t *pos, int *line, char ***words, int *nwords,
                   int *special, char *err, size_t errlen, const char *name)
{
    char **w = NULL;
    int n = 0, cap = 0, e = 0, in_word = 0;
    Buf cur = {0};
    size_t i = *pos;
    int start_line = *line;
    *special = 0;
    while (i < len) {
        char c = t[i];
        if (c == '\n') {
            i++;
            (*line)++;
            break;
        }
        if (c == '\\' && i + 1 < len && t[i + 1] == '\n') { /* continuation */
            i += 2;
            (*line)++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            if (in_word && (e = push_word(&w, &n, &cap, &cur)))
                goto fail;
            in_word = 0;
            i++;
            continue;
        }
        if (c == '#' && !in_word) { /* comment to the end of the line */
            while (i < len && t[i] != '\n')
                i++;
            continue;
        }
        if (!in_word && c == '~')
            *special = 1;
        in_word = 1;
        if (c == '\\') {
            if (i + 1 < len)
                aie_buf_putc(&cur, t[i + 1]);
            i += i + 1 < len ? 2 : 1; /* a backslash at the very end: not past it */
        } else if (c == '\'') {
            size_t j = i + 1;
            while (j < len && t[j] != '\'' && t[j] != '\n')
                j++;
            if (j >= len || t[j] != '\'') {
                where(err, errlen, name, *line, "unterminated ' quote");
                e = AIE_EINVAL;
                goto fail;
            }
            aie_buf_add(&cur, t + i + 1, j - i - 1);
            i = j + 1;
        } else if (c == '"') {
            size_t j = i + 1;
            for (;;) {
                if (j >= len || t[j] == '\n') {
                    where(err, errlen, name, *line, "unterminated \" quote");
                    e = AIE_EINVAL;
                    goto fail;
                }
                if (t[j] == '"')
                    break;
                if (t[j] == '\\' && j + 1 < len && strchr("\"\\$`", t[j + 1])) {
                    aie_buf_putc(&cur, t[j + 1]);
                    j += 2;
                    continue;
                }
                if (t[j] == '\\' && j + 1 < len && t[j + 1] == '\n') {
                    j += 2;
                    (*line)++;
                    continue;
                }
                if (t[j] == '$' || t[j] == '`')
                    *special = 1;
                aie_buf_putc(&cur, t[j]);
                j++;
            }
            i = j + 1;
        } else if (c == '$' && i + 1 < len && t[i + 1] == '\'') {
            /* ANSI-C quoting: \n \t \r \\ \' \" \a \b \e \f \v \xHH \NNN */
            size_t j = i + 2;
            for (;;) {
                if (j >= len || t[j] == '\n') {
                    where(err, errlen, name, *line, "unterminated $' quote");
                    e = AIE_EINVAL;
                    goto fail;
                }
                if (t[j] == '\'')
                    break;
                if (t[j] == '\\' && j + 1 < len) {
                    char d = t[j + 1];
                    j += 2;
                    switch (d) {
                    case 'n': aie_buf_putc(&cur, '\n'); break;
                    case 't': aie_buf_putc(&cur, '\t'); break;
                    case 'r': aie_buf_putc(&cur, '\r'); break;
                    case 'a': aie_buf_putc(&cur, '\a'); break;
                    case 'b': aie_buf_putc(&cur, '\b'); break;
                    case 'e': aie_buf_putc(&cur, 27); break;
                    case 'f': aie_buf_putc(&cur, '\f'); break;
                    case 'v': aie_buf_putc(&cur, '\v'); break;
                    case 'x': {
                        int v = 0, k = 0;
                        while (k < 2 && j < len && aie_hexval(t[j]) >= 0) {
                            v = v * 16 + aie_hexval(t[j++]);
                            k++;
                        }
                        aie_buf_putc(&cur, (char)v);
                        break;
                    }
                    default:
                        if (d >= '0' && d <= '7') {
                            int v = d - '0', k = 1;
                            while (k < 3 && j < len && t[j] >= '0' && t[j] <= '7') {
                                v = v * 8 + (t[j++] - '0');
                                k++;
                            }
                            aie_buf_putc(&cur, (char)v);
                        } else {
                            aie_buf_putc(&cur, d); /* \\ \' \" and the rest */
                        }
                    }
                    continue;
                }
                aie_buf_putc(&cur, t[j]);
                j++;
            }
            *special = 1; /* not POSIX sh */
            i = j + 1;
        } else {
            if (strchr("|&;<>()$`*?[", c))
                *special = 1;
            aie_buf_putc(&cur, c);
            i++;
        }
    }
    if (in_word && (e = push_word(&w, &n, &cap, &cur)))
        goto fail;
    if (cur.oom) {
        e = AIE_ENOMEM;
        goto fail;
    }
    aie_buf_free(&cur);
    if (!w && !(w = calloc(1, sizeof(*w)))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    *pos = i;
    *words = w;
    *nwords = n;
    return 0;
fail:
    (void)start_line;
    aie_buf_free(&cur);
    aie_batch_words_free(&w);
    return e;
}

int aie_batch_split(const char *s, size_t len, char ***words, int *nwords, char *err, size_t errlen)
{
    size_t pos = 0;
    int line = 0, special;
    /* a newline ends a command: reject text after it rather than drop it */
    int e = aie_words_next(s, len, &pos, &line, words, nwords, &special, err, errlen, NULL);
    if (e == 0 && pos < len) {
        char **more = NULL;
        int nm = 0;
        e = aie_words_next(s, len, &pos, &line, &more, &nm, &special, err, errlen, NULL);
        if (e == 0 && nm > 0) {
            aie_errf(err, errlen, "a command must fit on one line");
            e = AIE_EINVAL;
        }
        aie_batch_words_free(&more);
        if (e)
            aie_batch_words_free(words);
    }
    return e;
}

static int safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_-./:=,+@%^", c) || c >= 0x80;
}

char *aie_batch_quote(const char *w)
{
    Buf b = {0};
    int safe = *w != 0, ctl = 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
        if (!safe_char(*p) || (p == (const unsigned char *)w && *p == '#'))
            safe = 0;
        if (*p < 0x20 || *p == 0x7f)
            ctl = 1;
    }
    if (safe) {
        aie_buf_puts(&b, w);
    } else if (ctl) {
        aie_buf_puts(&b, "$'");
        for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
            switch (*p) {
            case '\n': aie_buf_puts(&b, "\\n"); break;
            case '\t': aie_buf_puts(&b, "\\t"); break;
            case '\r': aie_buf_puts(&b, "\\r"); break;
            case '\\': aie_buf_puts(&b, "\\\\"); break;
            case '\'': aie_buf_puts(&b, "\\'"); break;
            default:
                if (*p < 0x20 || *p == 0x7f)
                    aie_buf_printf(&b, "\\x%02x", *p);
                else
                    aie_buf_putc(&b, (char)*p);
            }
        }
        aie_buf_putc(&b, '\'');
    } else {
        aie_buf_putc(&b, '\'');
        for (const char *p = w; *p; p++) {
            if (*p == '\'')
                aie_buf_puts(&b, "'\\''");
            else
                aie_buf_putc(&b, *p);
        }
        aie_buf_putc(&b, '\'');
    }
    return aie_buf_take(&b);
}

char *aie_words_shquote(const char *w)
{
    Buf b = {0};
    int safe = *w != 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        if (!safe_char(*p))
            safe = 0;
    if (safe)
        return strdup(w);
    aie_buf_putc(&b, '\'');
    for (const char *p = w; *p; p++) {
        if (*p == '\'')
            aie_buf_puts(&b, "'\\''");
        else
            aie_buf_putc(&b, *p);
    }
    aie_buf_putc(&b, '\'');
    return aie_buf_take(&b);
}

char *aie_words_join(char *const *argv)
{
    Buf b = {0};
    for (int i = 0; argv[i]; i++) {
        char *q = aie_batch_quote(argv[i]);
        if (!q) {
            aie_buf_free(&b);
            return NULL;
        }
        if (i)
            aie_buf_putc(&b, ' ');
        aie_buf_puts(&b, q);
        free(q);
    }
    return aie_buf_take(&b);
}
