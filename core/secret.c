/* core/secret.c: see secret.h. */
#include "core/secret.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const words[] = {"password", "passwd",  "pwd",    "secret",     "token",       "salt",
                                    "hash",     "session", "apikey", "credential", "credentials", "otp"};
static const char *const endings[] = {"password", "secret", "token"};
static const char *const pairs[][2] = {
    {"api", "key"}, {"private", "key"}, {"secret", "key"}, {"access", "key"}};

#define NWORDS (sizeof(words) / sizeof(words[0]))

static bool word_is(const char *w, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp(w, s, n) == 0;
}

static bool word_ends(const char *w, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n > k && strncasecmp(w + n - k, s, k) == 0;
}

static bool secret_word(const char *w, size_t n)
{
    for (size_t i = 0; i < NWORDS; i++)
        if (word_is(w, n, words[i]))
            return true;
    for (size_t i = 0; i < sizeof(endings) / sizeof(endings[0]); i++)
        if (word_ends(w, n, endings[i]))
            return true;
    return false;
}

/* The next word of name at *pos: its start and length; false when there is none. */
static bool next_word(const char *name, size_t len, size_t *pos, const char **w, size_t *n)
{
    size_t i = *pos;
    while (i < len && !isalnum((unsigned char)name[i]))
        i++;
    if (i == len)
        return false;
    size_t start = i++;
    while (i < len && isalnum((unsigned char)name[i]) &&
           !(islower((unsigned char)name[i - 1]) && isupper((unsigned char)name[i])))
        i++;
    *w = name + start;
    *n = i - start;
    *pos = i;
    return true;
}

bool core_secret_name(const char *name, size_t len)
{
    const char *prev = NULL, *w;
    size_t prevn = 0, n, pos = 0;
    while (next_word(name, len, &pos, &w, &n)) {
        if (secret_word(w, n))
            return true;
        for (size_t i = 0; prev != NULL && i < sizeof(pairs) / sizeof(pairs[0]); i++)
            if (word_is(prev, prevn, pairs[i][0]) && word_is(w, n, pairs[i][1]))
                return true;
        prev = w;
        prevn = n;
    }
    return false;
}

static bool contains_ci(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(p + i, s, k) == 0)
            return true;
    return false;
}

bool core_secret_may_occur(const char *p, size_t n)
{
    static const char *const parts[] = {"pass",    "pwd", "secret",     "token", "salt", "hash",
                                        "session", "key", "credential", "otp",   "\\u"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (contains_ci(p, n, parts[i]))
            return true;
    return false;
}
