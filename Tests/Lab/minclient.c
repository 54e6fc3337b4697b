// minclient.c: the CPU floor of mxcheck's basic check on this machine's OpenSSL, for bench_batch.sh (issue 8).
//
// Usage: minclient TARGETS CONCURRENCY SERVERNAME CAFILE
//
// For each IPv4 address:port line of TARGETS, the two connections mxcheck makes, with nothing else around them:
// the main one says EHLO and STARTTLS, completes a full handshake (SNI SERVERNAME), verifies the chain against
// CAFILE, says EHLO inside TLS and QUIT; the second says EHLO, STARTTLS and NOOP in one write, resumes the main
// connection's session and says QUIT inside TLS. CONCURRENCY threads share the targets. Prints one line:
// "N endpoints in S s, CPU C ms per endpoint" (user+sys of the whole process, start-up included, as GNU time
// measures mxcheck). Every socket wait is bounded (10 s), every reply capped (64 KB); exit 1 on any failure.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { REPLY_CAP = 65536, MAX_TARGETS = 100000 };

static SSL_CTX *context;
static X509_STORE *store;
static const char *server_name;
static char *targets[MAX_TARGETS];
static int target_count;
static int next_target;
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, const char *target) {
    pthread_mutex_lock(&lock);
    failures++;
    fprintf(stderr, "minclient: %s: %s\n", target, what);
    pthread_mutex_unlock(&lock);
}

static int dial(const char *target) {
    char host[64];
    const char *colon = strrchr(target, ':');
    if (colon == NULL || (size_t)(colon - target) >= sizeof host) return -1;
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = 0;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval bound = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Whether buffer[0..<length] ends with the last line of an SMTP reply ("ddd text\r\n").
static int reply_complete(const char *buffer, int length) {
    if (length < 2 || buffer[length - 1] != '\n') return 0;
    int start = length - 2;
    while (start > 0 && buffer[start - 1] != '\n') start--;
    return length - start >= 4 && buffer[start + 3] == ' ';
}

// One SMTP reply, from the socket (tls NULL) or through TLS; 0 on failure.
static int read_reply(int fd, SSL *tls) {
    static __thread char buffer[REPLY_CAP];
    int length = 0;
    while (length < REPLY_CAP) {
        int got = tls ? SSL_read(tls, buffer + length, REPLY_CAP - length) : (int)read(fd, buffer + length, (size_t)(REPLY_CAP - length));
        if (got <= 0) return 0;
        length += got;
        if (reply_complete(buffer, length)) return 1;
    }
    return 0;
}

static int say(int fd, SSL *tls, const char *text) {
    int length = (int)strlen(text);
    return tls ? SSL_write(tls, text, length) == length : write(fd, text, (size_t)length) == length;
}

static int plain_part(int fd, const char *starttls) {
    return read_reply(fd, NULL) && say(fd, NULL, "EHLO minclient.example\r\n") && read_reply(fd, NULL)
        && say(fd, NULL, starttls) && read_reply(fd, NULL);
}

static void endpoint(const char *target) {
    int fd = dial(target);
    if (fd < 0 || !plain_part(fd, "STARTTLS\r\n")) {
        fail("main connection", target);
        if (fd >= 0) close(fd);
        return;
    }
    SSL *tls = SSL_new(context);
    SSL_set_fd(tls, fd);
    SSL_set_tlsext_host_name(tls, server_name);
    SSL_SESSION *session = NULL;
    if (SSL_connect(tls) == 1) {
        STACK_OF(X509) *chain = SSL_get_peer_cert_chain(tls);
        X509_STORE_CTX *verify = X509_STORE_CTX_new();
        if (chain != NULL && verify != NULL && X509_STORE_CTX_init(verify, store, sk_X509_value(chain, 0), chain) == 1) {
            X509_verify_cert(verify);
        }
        X509_STORE_CTX_free(verify);
        if (say(fd, tls, "EHLO minclient.example\r\n") && read_reply(fd, tls)) session = SSL_get1_session(tls);
        if (say(fd, tls, "QUIT\r\n")) read_reply(fd, tls);
        SSL_shutdown(tls);
    }
    SSL_free(tls);
    close(fd);
    if (session == NULL) {
        fail("main handshake", target);
        return;
    }
    fd = dial(target);
    if (fd < 0 || !plain_part(fd, "STARTTLS\r\nNOOP\r\n")) {
        fail("second connection", target);
        if (fd >= 0) close(fd);
        SSL_SESSION_free(session);
        return;
    }
    tls = SSL_new(context);
    SSL_set_fd(tls, fd);
    SSL_set_tlsext_host_name(tls, server_name);
    SSL_set_session(tls, session);
    if (SSL_connect(tls) == 1 && say(fd, tls, "QUIT\r\n") && read_reply(fd, tls)) {
        SSL_shutdown(tls);
    } else {
        fail("second handshake", target);
    }
    SSL_free(tls);
    close(fd);
    SSL_SESSION_free(session);
}

static void *worker(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&lock);
        int index = next_target < target_count ? next_target++ : -1;
        pthread_mutex_unlock(&lock);
        if (index < 0) break;
        endpoint(targets[index]);
    }
    OPENSSL_thread_stop();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: minclient TARGETS CONCURRENCY SERVERNAME CAFILE\n");
        return 2;
    }
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    FILE *list = fopen(argv[1], "r");
    if (list == NULL) {
        perror(argv[1]);
        return 1;
    }
    char line[256];
    while (target_count < MAX_TARGETS && fgets(line, sizeof line, list) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] != 0) targets[target_count++] = strdup(line);
    }
    fclose(list);
    int concurrency = atoi(argv[2]);
    if (concurrency < 1 || concurrency > 1024) concurrency = 1;
    server_name = argv[3];
    // The same settings as mxcheck's: no openssl.cnf, verification after the handshake against its own store.
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    context = SSL_CTX_new(TLS_client_method());
    store = X509_STORE_new();
    if (context == NULL || store == NULL || X509_STORE_load_file(store, argv[4]) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
    pthread_t threads[1024];
    for (int i = 0; i < concurrency; i++) pthread_create(&threads[i], NULL, worker, NULL);
    for (int i = 0; i < concurrency; i++) pthread_join(threads[i], NULL);
    struct timespec ended;
    clock_gettime(CLOCK_MONOTONIC, &ended);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 + (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
    double seconds = (double)(ended.tv_sec - started.tv_sec) + (double)(ended.tv_nsec - started.tv_nsec) / 1e9;
    printf("%d endpoints in %.2f s, CPU %.2f ms per endpoint\n", target_count, seconds, cpu / (target_count ? target_count : 1));
    return failures == 0 ? 0 : 1;
}
