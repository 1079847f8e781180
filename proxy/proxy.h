/*
 * proxy/proxy.h: `recap proxy`, the recording reverse proxy.
 *
 * Contract: runs the h2o event loop on the calling thread until SIGTERM or
 * SIGINT, then stops accepting, lets in-flight calls finish (bounded by
 * --shutdown-timeout), writes every record and returns the exit code:
 * 0 after a clean stop, 2 for bad flags or a start-up failure (the message
 * is already printed as one line).
 */
#ifndef RECAP_PROXY_H
#define RECAP_PROXY_H

/** argv[0] is "proxy". */
int recap_proxy_main(int argc, char **argv);

#endif
