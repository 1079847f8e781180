/*
 * verifier/verify.h: `recap verify CAPTURE... --specs DIR`: every captured
 * call checked against the specs, reported on the terminal and optionally as
 * JUnit XML, JSON and HTML. Exit 0 when all pass, 1 when a check failed, 2 for
 * a usage or input error (after reporting what could be verified: a torn last
 * line is reported and the complete lines before it are still checked).
 * Report files are written whole or not at all (temp file, then rename).
 */
#ifndef RV_VERIFY_H
#define RV_VERIFY_H

/** argv[0] is "verify". */
int rv_verify_main(int argc, char **argv);

#endif
