/* core/shape.c: see shape.h. */
#include "core/shape.h"

#include <ctype.h>

bool core_is_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

bool core_is_digits(const char *s, size_t n)
{
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool core_is_id_segment(const char *s, size_t n)
{
    return core_is_digits(s, n) || core_is_uuid(s, n);
}

static bool digits_n(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool core_is_date(const char *s)
{
    return digits_n(s, 4) && s[4] == '-' && digits_n(s + 5, 2) && s[7] == '-' && digits_n(s + 8, 2);
}

/* RFC 3339 or PostgreSQL's text form: 2026-11-24T12:00:00.123Z, 2026-11-24 12:00:00.123456+00 */
bool core_is_timestamp(const char *s)
{
    if (!core_is_date(s) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't'))
        return false;
    s += 11;
    if (!(digits_n(s, 2) && s[2] == ':' && digits_n(s + 3, 2)))
        return false;
    s += 5;
    if (*s == ':') {
        if (!digits_n(s + 1, 2))
            return false;
        s += 3;
        if (*s == '.') {
            s++;
            if (!isdigit((unsigned char)*s))
                return false;
            while (isdigit((unsigned char)*s))
                s++;
        }
    }
    if (*s == 'Z' || *s == 'z')
        return s[1] == '\0';
    if (*s == '+' || *s == '-') {
        s++;
        if (!digits_n(s, 2))
            return false;
        s += 2;
        if (*s == ':')
            s++;
        if (digits_n(s, 2))
            s += 2;
    }
    return *s == '\0';
}
