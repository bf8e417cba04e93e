/* exchange.h — for the libFuzzer targets that drive a real listener on 127.0.0.1 (fuzz_listen.c,
 * fuzz_server.c): one connection, the input sent as it is, the answer read until the listener closes,
 * or is quiet for a moment once it answered (it keeps a connection open for the next request), or
 * says nothing for 2 s. Closed with a reset, so that no TIME_WAIT is left behind: a hundred thousand
 * exchanges a minute would otherwise use up the ephemeral ports. */
#ifndef FUZZ_EXCHANGE_H
#define FUZZ_EXCHANGE_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void fuzz_exchange(int p, const uint8_t *data, size_t size) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)p);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct linger lg = { 1, 0 };
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("fuzz: the listener cannot be reached");
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    char buf[65536];
    int got = 0;
    for (;;) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, got ? 20 : 2000) <= 0) break;
        if (recv(fd, buf, sizeof buf, 0) <= 0) break;
        got = 1;
    }
    close(fd);
}

#endif
