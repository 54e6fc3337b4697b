#ifndef CMXCHECK_SHIMS_H
#define CMXCHECK_SHIMS_H
// C functions wrapping the OpenSSL macros (and varargs) Swift cannot call.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int CMXCheckShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
int CMXCheckShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int CMXCheckShims_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
/// Name of the negotiated key-exchange group ("X25519", "secp256r1", "ffdhe2048"), or NULL.
const char *CMXCheckShims_SSL_negotiated_group_name(SSL *ssl);
/// The server's ephemeral key (caller frees with EVP_PKEY_free), or NULL.
EVP_PKEY *CMXCheckShims_SSL_get_peer_tmp_key(SSL *ssl);

int CMXCheckShims_sk_X509_num(const STACK_OF(X509) *stack);
X509 *CMXCheckShims_sk_X509_value(const STACK_OF(X509) *stack, int index);
STACK_OF(X509) *CMXCheckShims_sk_X509_new_null(void);
int CMXCheckShims_sk_X509_push(STACK_OF(X509) *stack, X509 *cert);
/// Frees the stack and drops one reference of every certificate in it.
void CMXCheckShims_sk_X509_pop_free(STACK_OF(X509) *stack);

/// Copies a certificate's DER encoding into a new buffer (free with CMXCheckShims_free); returns its length or -1.
int CMXCheckShims_X509_to_der(X509 *cert, unsigned char **out);
X509 *CMXCheckShims_X509_from_der(const unsigned char *der, long length);
void CMXCheckShims_free(void *pointer);

/// RFC 2253 one-line name ("CN=R11,O=Let's Encrypt,C=US") into buf; returns its length or -1.
int CMXCheckShims_X509_NAME_rfc2253(const X509_NAME *name, char *buf, int capacity);
/// The value of the last CN in a name into buf; returns its length or -1.
int CMXCheckShims_X509_NAME_last_cn(const X509_NAME *name, char *buf, int capacity);

/// ASN1_TIME as seconds since 1970; returns 1 on success.
int CMXCheckShims_ASN1_TIME_to_unix(const ASN1_TIME *time, int64_t *out);

/// Subject alternative names. kind: 0 = DNS, 1 = IP (text form). Returns the count.
int CMXCheckShims_X509_san_count(X509 *cert);
/// kind: 0 DNS, 1 IP, -1 other. Writes the value as text into buf; returns its length or -1.
int CMXCheckShims_X509_san_at(X509 *cert, int index, int *kind, char *buf, int capacity);

/// Verifies leaf with the untrusted chain at a fixed time against the store. Every error met is
/// recorded (depth, code) and verification goes on, so all reasons come out of one pass.
/// Returns the number of errors written (at most capacity); *total gets the number met.
int CMXCheckShims_verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                               int64_t at_time, int *depths, int *codes, int capacity, int *total);

/// 1 when the certificate is self-issued and its signature verifies with its own key.
int CMXCheckShims_X509_is_self_signed(X509 *cert);

#ifdef __cplusplus
}
#endif
#endif

#ifndef CMXCHECK_SHIMS_OPTIONS
#define CMXCHECK_SHIMS_OPTIONS
#ifdef __cplusplus
extern "C" {
#endif
/// Lets the client talk to servers without secure renegotiation (observe legacy servers, don't refuse them).
void CMXCheckShims_SSL_CTX_allow_legacy_servers(SSL_CTX *ctx);
/// The handshake accepts the server's chain without building or verifying it (SSL_CTX_set_cert_verify_callback):
/// mxcheck verifies the chain itself afterwards, against its own store, so OpenSSL's verification against the
/// context's empty store would be work thrown away.
void CMXCheckShims_SSL_CTX_defer_verification(SSL_CTX *ctx);

/// Client session caching with no internal store: OpenSSL hands each new session (a TLS 1.2 one at the end
/// of the handshake, a TLS 1.3 ticket as it is read) to `on_new_session`, which returns 1 when it kept it.
void CMXCheckShims_SSL_CTX_watch_client_sessions(SSL_CTX *ctx, int (*on_new_session)(SSL *ssl, SSL_SESSION *session));
/// printf's "%.Nf" of `value` (N = `decimals`, 0 to 9) into out, NUL-terminated; returns the length it needed.
/// A fixed-argument C function: Swift's variadic CVarArg path costs a runtime conformance lookup.
int CMXCheckShims_format_fixed(double value, int decimals, char *out, int capacity);
/// 1 when the directory has an OpenSSL hash link (a name of eight hex digits and ".0"), else 0. Reads the
/// entries 1 KB at a time and stops at the first such name: readdir would read the whole directory (a
/// system certificate directory has hundreds of entries) at its first call.
int CMXCheckShims_directory_holds_hash_link(const char *path);
/// The SHA-256 digest of a DER buffer into out (32 bytes); returns 1 on success.
int CMXCheckShims_sha256(const unsigned char *data, size_t length, unsigned char *out);
/// Loads libssl's error reason texts, once per process (thread-safe). mxcheck starts OpenSSL without them
/// (OPENSSL_INIT_NO_LOAD_SSL_STRINGS: loading costs about 0.3 ms at every start) and loads them when it first
/// reads an error.
void CMXCheckShims_load_ssl_error_strings(void);
/// Has every thread allocate from the main malloc arena (mallopt M_ARENA_MAX 1). For a run of a few
/// threads: a thread's own arena would start empty and grow a page per system call as OpenSSL allocates.
/// Call before other threads start.
void CMXCheckShims_malloc_use_one_arena(void);
#ifdef __cplusplus
}
#endif
#endif

#ifndef CMXCHECK_SHIMS_NAMES
#define CMXCHECK_SHIMS_NAMES
#include <openssl/x509v3.h>
#ifdef __cplusplus
extern "C" {
#endif
/// Every subjectAltName of a certificate, decoded once (free with CMXCheckShims_GENERAL_NAMES_free); NULL when none.
GENERAL_NAMES *CMXCheckShims_X509_subject_alt_names(X509 *cert);
int CMXCheckShims_GENERAL_NAMES_num(const GENERAL_NAMES *names);
/// kind: 0 DNS, 1 IP, -1 other. Writes the value as text into buf; returns its length or -1.
int CMXCheckShims_GENERAL_NAMES_text_at(const GENERAL_NAMES *names, int index, int *kind, char *buf, int capacity);
void CMXCheckShims_GENERAL_NAMES_free(GENERAL_NAMES *names);
#ifdef __cplusplus
}
#endif
#endif

#ifndef CMXCHECK_SHIMS_DANE
#define CMXCHECK_SHIMS_DANE
#ifdef __cplusplus
extern "C" {
#endif
/// One TLSA record handed to OpenSSL's DANE code.
typedef struct {
    uint8_t usage;
    uint8_t selector;
    uint8_t matching_type;
    const unsigned char *data;
    size_t length;
} CMXCheckShims_tlsa_record;

/// What OpenSSL's DANE verification said about a chain.
typedef struct {
    /// 1: the chain is authenticated by a TLSA record (X509_verify_cert succeeded).
    int verified;
    /// X509_V_ERR_* when not verified, and the depth it was met at.
    int error;
    int error_depth;
    /// Depth in the verified chain of the certificate or key that matched (SSL_get0_dane_authority), -1: none.
    int matched_depth;
    /// Index into the records given of the record that matched (SSL_get0_dane_tlsa), -1: none.
    int matched_record;
    /// How many records OpenSSL accepted (SSL_dane_tlsa_add > 0).
    int records_added;
    /// The matched certificate, one reference the caller frees with X509_free; NULL for a bare key or no match.
    X509 *matched_cert;
} CMXCheckShims_dane_result;

/// A client SSL_CTX with DANE enabled (SSL_CTX_dane_enable), used only to verify chains after the handshake.
SSL_CTX *CMXCheckShims_dane_context(void);
/// Verifies leaf and the untrusted certificates the server sent after it against the TLSA records with OpenSSL's
/// DANE code, the way an SMTP client does (RFC 7672): DANE-EE matches ignore names and dates
/// (DANE_FLAG_NO_DANE_EE_NAMECHECKS); a DANE-TA match needs the chain from it valid at at_time for one of
/// the names (DNS-ID SANs, the CN only without them, no partial wildcards). Returns 0, or -1 when
/// verification could not be set up.
int CMXCheckShims_dane_verify(SSL_CTX *ctx, X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                              const CMXCheckShims_tlsa_record *records, int record_count,
                              const char *const *names, int name_count, int64_t at_time,
                              CMXCheckShims_dane_result *result);
/// The DER encoding of a certificate's SubjectPublicKeyInfo into a new buffer (free with CMXCheckShims_free).
int CMXCheckShims_X509_spki_der(X509 *cert, unsigned char **out);
/// The SHA-512 digest of a buffer into out (64 bytes); returns 1 on success.
int CMXCheckShims_sha512(const unsigned char *data, size_t length, unsigned char *out);
/// libunbound's entry points, loaded with dlopen("libunbound.so.8") at the first CMXCheckShims_ub_ctx_create, which
/// returns NULL when the library cannot be loaded (no other entry point is reached without a context).
struct ub_ctx;
struct ub_result;
struct ub_ctx *CMXCheckShims_ub_ctx_create(void);
void CMXCheckShims_ub_ctx_delete(struct ub_ctx *ctx);
int CMXCheckShims_ub_ctx_set_option(struct ub_ctx *ctx, const char *opt, const char *val);
int CMXCheckShims_ub_ctx_set_fwd(struct ub_ctx *ctx, const char *addr);
int CMXCheckShims_ub_ctx_resolvconf(struct ub_ctx *ctx, const char *fname);
int CMXCheckShims_ub_ctx_add_ta_file(struct ub_ctx *ctx, const char *fname);
int CMXCheckShims_ub_ctx_async(struct ub_ctx *ctx, int dothread);
int CMXCheckShims_ub_fd(struct ub_ctx *ctx);
int CMXCheckShims_ub_process(struct ub_ctx *ctx);
int CMXCheckShims_ub_resolve_async(struct ub_ctx *ctx, const char *name, int rrtype, int rrclass, void *mydata,
                                   void (*callback)(void *, int, struct ub_result *), int *async_id);
int CMXCheckShims_ub_cancel(struct ub_ctx *ctx, int async_id);
void CMXCheckShims_ub_resolve_free(struct ub_result *result);
const char *CMXCheckShims_ub_strerror(int err);
#ifdef __cplusplus
}
#endif
#endif

#ifndef CMXCHECK_SHIMS_MTA_STS
#define CMXCHECK_SHIMS_MTA_STS
/// 1 when a DNS-ID SAN of the certificate matches host exactly as an MTA-STS sender checks the policy host:
/// X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT (no "mta*.", never the CN); 0 otherwise.
int CMXCheckShims_X509_check_policy_host(X509 *cert, const char *host);
#endif
