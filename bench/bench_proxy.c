/* bench_proxy.c: the baseline of the bus benchmark, a raw libzmq proxy.
 *
 * Exactly zmq_proxy(xsub, xpub, NULL) in its own process, bound on the same
 * transport and with the same high-water marks and linger as crm-bus, so
 * that comparing the two measures only what crm-bus adds. It has no
 * shutdown logic: the driver ends it with SIGTERM (default action).
 *
 * Usage: crm-bench-proxy --xsub tcp://127.0.0.1:P --xpub tcp://127.0.0.1:Q [--hwm 100000] */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <zmq.h>

int main(int argc, char **argv)
{
    const char *in = bench_opt(argc, argv, "--xsub", NULL);
    const char *out = bench_opt(argc, argv, "--xpub", NULL);
    int hwm = (int)bench_opt_ll(argc, argv, "--hwm", 100000);
    if (!in || !out) {
        fprintf(stderr, "usage: %s --xsub <endpoint> --xpub <endpoint> [--hwm N]\n", argv[0]);
        return 2;
    }
    void *zctx = zmq_ctx_new();
    void *xsub = zmq_socket(zctx, ZMQ_XSUB);
    void *xpub = zmq_socket(zctx, ZMQ_XPUB);
    int linger = 0;
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xsub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(xpub, ZMQ_LINGER, &linger, sizeof linger);
    bench_curve_server(xsub);
    bench_curve_server(xpub);
    if (zmq_bind(xsub, in) != 0 || zmq_bind(xpub, out) != 0) {
        bench_log("bench-proxy", "could not bind %s / %s: %s", in, out, zmq_strerror(errno));
        return 1;
    }
    /* The driver waits for this line, as it waits for crm-bus's bus.ready. */
    printf("{\"event\":\"proxy.ready\",\"xsub\":\"%s\",\"xpub\":\"%s\",\"hwm\":%d}\n", in, out,
           hwm);
    fflush(stdout);
    zmq_proxy(xsub, xpub, NULL);
    zmq_close(xsub);
    zmq_close(xpub);
    zmq_ctx_term(zctx);
    return 0;
}
