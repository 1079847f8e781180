/*
 * core/secret.h: which names say "secret", so their values are never
 * written: JSON fields, query and form parameters, row columns.
 *
 * The default rule (docs/operations.md, "Redaction"): a name is split into
 * words (at anything but letters and digits, and where a lower-case letter
 * meets an upper-case one: password_hash, passwordHash, X-Api-Key); it is a
 * secret when a word is password, passwd, pwd, secret, token, salt, hash,
 * session, apikey, credential(s) or otp, or ends in password, secret or token
 * (csrftoken), or two neighbouring words are api+key, private+key,
 * secret+key or access+key. Case never matters.
 *
 * Contract: pure, thread-safe, no allocation; names are bytes (len given).
 */
#ifndef CORE_SECRET_H
#define CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/** Whether the default rule takes name[0..len) for a secret. */
bool core_secret_name(const char *name, size_t len);

/** Whether p[0..n) may hold a name the default rule takes (a cheap pre-check: no false "no"). */
bool core_secret_may_occur(const char *p, size_t n);

#endif
