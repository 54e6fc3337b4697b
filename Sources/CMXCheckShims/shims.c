#include "CMXCheckShims.h"
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <malloc.h>
#include <pthread.h>
#include <openssl/ssl.h>

int CMXCheckShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

int CMXCheckShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

int CMXCheckShims_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

const char *CMXCheckShims_SSL_negotiated_group_name(SSL *ssl) {
    int nid = SSL_get_negotiated_group(ssl);
    if (nid == 0 || nid == NID_undef) {
        return NULL;
    }
    const char *name = SSL_group_to_name(ssl, nid);
    if (name != NULL) {
        return name;
    }
    return OBJ_nid2sn(nid);
}

EVP_PKEY *CMXCheckShims_SSL_get_peer_tmp_key(SSL *ssl) {
    EVP_PKEY *key = NULL;
    if (SSL_get_peer_tmp_key(ssl, &key) != 1) {
        return NULL;
    }
    return key;
}

int CMXCheckShims_sk_X509_num(const STACK_OF(X509) *stack) {
    return stack == NULL ? 0 : sk_X509_num(stack);
}

X509 *CMXCheckShims_sk_X509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

STACK_OF(X509) *CMXCheckShims_sk_X509_new_null(void) {
    return sk_X509_new_null();
}

int CMXCheckShims_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) {
    return sk_X509_push(stack, cert);
}

void CMXCheckShims_sk_X509_pop_free(STACK_OF(X509) *stack) {
    sk_X509_pop_free(stack, X509_free);
}

int CMXCheckShims_X509_to_der(X509 *cert, unsigned char **out) {
    *out = NULL;
    return i2d_X509(cert, out);
}

X509 *CMXCheckShims_X509_from_der(const unsigned char *der, long length) {
    const unsigned char *cursor = der;
    return d2i_X509(NULL, &cursor, length);
}

void CMXCheckShims_free(void *pointer) {
    OPENSSL_free(pointer);
}

static int copy_bio(BIO *bio, char *buf, int capacity) {
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    if (length < 0 || capacity <= 0) {
        return -1;
    }
    if (length >= capacity) {
        length = capacity - 1;
    }
    memcpy(buf, data, (size_t)length);
    buf[length] = 0;
    return (int)length;
}

int CMXCheckShims_X509_NAME_rfc2253(const X509_NAME *name, char *buf, int capacity) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return -1;
    }
    int result = -1;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        result = copy_bio(bio, buf, capacity);
    }
    BIO_free(bio);
    return result;
}

int CMXCheckShims_X509_NAME_last_cn(const X509_NAME *name, char *buf, int capacity) {
    int index = -1, last = -1;
    while ((index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) >= 0) {
        last = index;
    }
    if (last < 0) {
        return -1;
    }
    ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
    unsigned char *utf8 = NULL;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) {
        return -1;
    }
    if (length >= capacity) {
        length = capacity - 1;
    }
    memcpy(buf, utf8, (size_t)length);
    buf[length] = 0;
    OPENSSL_free(utf8);
    return length;
}

/* Days from 1970-01-01 to the proleptic Gregorian date (month 1-12), exact for any year: the civil-from-days
   arithmetic with eras of 400 years. Used instead of timegm, which makes glibc read /etc/localtime first. */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t year_of_era = year - era * 400;
    const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

int CMXCheckShims_ASN1_TIME_to_unix(const ASN1_TIME *time, int64_t *out) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (time == NULL || ASN1_TIME_to_tm(time, &tm) != 1) {
        return 0;
    }
    const int64_t days = days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1, tm.tm_mday);
    *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return 1;
}

int CMXCheckShims_X509_san_count(X509 *cert) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) {
        return 0;
    }
    int count = sk_GENERAL_NAME_num(names);
    GENERAL_NAMES_free(names);
    return count;
}

int CMXCheckShims_X509_san_at(X509 *cert, int index, int *kind, char *buf, int capacity) {
    *kind = -1;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL || capacity <= 0) {
        GENERAL_NAMES_free(names);
        return -1;
    }
    int result = -1;
    if (index >= 0 && index < sk_GENERAL_NAME_num(names)) {
        GENERAL_NAME *name = sk_GENERAL_NAME_value(names, index);
        if (name->type == GEN_DNS) {
            const ASN1_IA5STRING *dns = name->d.dNSName;
            int length = ASN1_STRING_length(dns);
            if (length >= capacity) {
                length = capacity - 1;
            }
            memcpy(buf, ASN1_STRING_get0_data(dns), (size_t)length);
            buf[length] = 0;
            *kind = 0;
            result = length;
        } else if (name->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = name->d.iPAddress;
            const unsigned char *bytes = ASN1_STRING_get0_data(ip);
            int length = ASN1_STRING_length(ip);
            if (length == 4) {
                result = snprintf(buf, (size_t)capacity, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
                *kind = 1;
            } else if (length == 16) {
                int written = 0;
                for (int i = 0; i < 16 && written < capacity; i += 2) {
                    written += snprintf(buf + written, (size_t)(capacity - written), i == 0 ? "%x" : ":%x",
                                        (unsigned)(bytes[i] << 8 | bytes[i + 1]));
                }
                result = written;
                *kind = 1;
            }
        }
    }
    GENERAL_NAMES_free(names);
    return result;
}

typedef struct {
    int *depths;
    int *codes;
    int capacity;
    int count;
    int total;
} verify_record;

static int verify_record_index = -1;

static int record_error(int ok, X509_STORE_CTX *ctx) {
    if (!ok) {
        verify_record *record = X509_STORE_CTX_get_ex_data(ctx, verify_record_index);
        if (record != NULL) {
            int depth = X509_STORE_CTX_get_error_depth(ctx);
            int code = X509_STORE_CTX_get_error(ctx);
            int seen = 0;
            for (int i = 0; i < record->count; i++) {
                if (record->depths[i] == depth && record->codes[i] == code) {
                    seen = 1;
                }
            }
            if (!seen) {
                record->total++;
                if (record->count < record->capacity) {
                    record->depths[record->count] = depth;
                    record->codes[record->count] = code;
                    record->count++;
                }
            }
        }
    }
    return 1;
}

int CMXCheckShims_verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                               int64_t at_time, int *depths, int *codes, int capacity, int *total) {
    if (verify_record_index < 0) {
        verify_record_index = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    verify_record record = {depths, codes, capacity, 0, 0};
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL) {
        return -1;
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        X509_STORE_CTX_free(ctx);
        return -1;
    }
    X509_STORE_CTX_set_ex_data(ctx, verify_record_index, &record);
    X509_STORE_CTX_set_verify_cb(ctx, record_error);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    int result = X509_verify_cert(ctx);
    if (result != 1 && record.total == 0) {
        record_error(0, ctx);
    }
    X509_STORE_CTX_free(ctx);
    *total = record.total;
    return record.count;
}

int CMXCheckShims_X509_is_self_signed(X509 *cert) {
    return X509_self_signed(cert, 1) == 1 ? 1 : 0;
}

void CMXCheckShims_SSL_CTX_allow_legacy_servers(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
}

static int accept_without_verifying(X509_STORE_CTX *store_ctx, void *arg) {
    (void)store_ctx;
    (void)arg;
    return 1;
}

void CMXCheckShims_SSL_CTX_defer_verification(SSL_CTX *ctx) {
    SSL_CTX_set_cert_verify_callback(ctx, accept_without_verifying, NULL);
}

void CMXCheckShims_SSL_CTX_watch_client_sessions(SSL_CTX *ctx, int (*on_new_session)(SSL *ssl, SSL_SESSION *session)) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

int CMXCheckShims_format_fixed(double value, int decimals, char *out, int capacity) {
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    return snprintf(out, (size_t)capacity, "%.*f", decimals, value);
}

static int is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Eight hex digits, ".0", end: checked in order, so a shorter (NUL-terminated) name stops the reading early. */
static int is_hash_link_name(const char *name) {
    for (int i = 0; i < 8; i++) {
        if (!is_hex_digit(name[i])) return 0;
    }
    return name[8] == '.' && name[9] == '0' && name[10] == '\0';
}

struct linux_dirent64_header {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int CMXCheckShims_directory_holds_hash_link(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    _Alignas(8) char buffer[1024];
    int found = 0;
    /* Bounded: at most 4 MB of entries. */
    for (int reads = 0; reads < 4096 && !found; reads++) {
        long got = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
        if (got <= 0) break;
        long offset = 0;
        while (offset < got) {
            const struct linux_dirent64_header *entry = (const struct linux_dirent64_header *)(buffer + offset);
            if (entry->d_reclen == 0 || offset + entry->d_reclen > got) break;
            if (is_hash_link_name(entry->d_name)) {
                found = 1;
                break;
            }
            offset += entry->d_reclen;
        }
    }
    close(fd);
    return found;
}

int CMXCheckShims_sha256(const unsigned char *data, size_t length, unsigned char *out) {
    unsigned int size = 0;
    return EVP_Digest(data, length, out, &size, EVP_sha256(), NULL) == 1 && size == 32 ? 1 : 0;
}

GENERAL_NAMES *CMXCheckShims_X509_subject_alt_names(X509 *cert) {
    return X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
}

int CMXCheckShims_GENERAL_NAMES_num(const GENERAL_NAMES *names) {
    return names == NULL ? 0 : sk_GENERAL_NAME_num(names);
}

int CMXCheckShims_GENERAL_NAMES_text_at(const GENERAL_NAMES *names, int index, int *kind, char *buf, int capacity) {
    *kind = -1;
    if (names == NULL || capacity <= 0 || index < 0 || index >= sk_GENERAL_NAME_num(names)) {
        return -1;
    }
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, index);
    if (name->type == GEN_DNS) {
        const ASN1_IA5STRING *dns = name->d.dNSName;
        int length = ASN1_STRING_length(dns);
        if (length >= capacity) {
            length = capacity - 1;
        }
        memcpy(buf, ASN1_STRING_get0_data(dns), (size_t)length);
        buf[length] = 0;
        *kind = 0;
        return length;
    }
    if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING *ip = name->d.iPAddress;
        const unsigned char *bytes = ASN1_STRING_get0_data(ip);
        int length = ASN1_STRING_length(ip);
        if (length == 4) {
            *kind = 1;
            int written = snprintf(buf, (size_t)capacity, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
            return written < capacity ? written : capacity - 1;
        }
        if (length == 16) {
            int written = 0;
            for (int i = 0; i < 16 && written < capacity; i += 2) {
                written += snprintf(buf + written, (size_t)(capacity - written), i == 0 ? "%x" : ":%x",
                                    (unsigned)(bytes[i] << 8 | bytes[i + 1]));
            }
            *kind = 1;
            return written < capacity ? written : capacity - 1;
        }
    }
    return -1;
}

void CMXCheckShims_GENERAL_NAMES_free(GENERAL_NAMES *names) {
    GENERAL_NAMES_free(names);
}

SSL_CTX *CMXCheckShims_dane_context(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        return NULL;
    }
    if (SSL_CTX_dane_enable(ctx) <= 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int CMXCheckShims_dane_verify(SSL_CTX *ctx, X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                              const CMXCheckShims_tlsa_record *records, int record_count,
                              const char *const *names, int name_count, int64_t at_time,
                              CMXCheckShims_dane_result *result) {
    result->verified = 0;
    result->error = 0;
    result->error_depth = -1;
    result->matched_depth = -1;
    result->matched_record = -1;
    result->records_added = 0;
    result->matched_cert = NULL;
    if (name_count < 1 || names[0] == NULL) {
        return -1;
    }
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) {
        return -1;
    }
    int status = -1;
    X509_STORE_CTX *verify = NULL;
    if (SSL_dane_enable(ssl, names[0]) <= 0) {
        goto done;
    }
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (int i = 1; i < name_count; i++) {
        if (names[i] != NULL && SSL_add1_host(ssl, names[i]) != 1) {
            goto done;
        }
    }
    for (int i = 0; i < record_count; i++) {
        const CMXCheckShims_tlsa_record *r = &records[i];
        if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->matching_type, r->data, r->length) > 0) {
            result->records_added++;
        }
    }
    ERR_clear_error();
    verify = X509_STORE_CTX_new();
    if (verify == NULL || X509_STORE_CTX_init(verify, store, leaf, untrusted) != 1) {
        goto done;
    }
    // What ssl_verify_cert_chain does for a client: DANE state, server-purpose defaults, then the SSL's
    // parameters (the names) over them.
    X509_STORE_CTX_set0_dane(verify, SSL_get0_dane(ssl));
    X509_STORE_CTX_set_default(verify, "ssl_server");
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(verify);
    X509_VERIFY_PARAM_set1(param, SSL_get0_param(ssl));
    X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
    // Key sizes and digests are judged by mxcheck's rules, not by whether DANE authenticates.
    X509_VERIFY_PARAM_set_auth_level(param, 0);
    int ok = X509_verify_cert(verify);
    status = 0;
    if (ok == 1) {
        result->verified = 1;
        SSL_set_verify_result(ssl, X509_V_OK);
        X509 *mcert = NULL;
        EVP_PKEY *mspki = NULL;
        result->matched_depth = SSL_get0_dane_authority(ssl, &mcert, &mspki);
        if (mcert != NULL && X509_up_ref(mcert) == 1) {
            result->matched_cert = mcert;
        }
        uint8_t usage = 0, selector = 0, mtype = 0;
        unsigned const char *data = NULL;
        size_t length = 0;
        if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &length) >= 0) {
            for (int i = 0; i < record_count; i++) {
                const CMXCheckShims_tlsa_record *r = &records[i];
                if (r->usage == usage && r->selector == selector && r->matching_type == mtype && r->length == length
                    && (length == 0 || memcmp(r->data, data, length) == 0)) {
                    result->matched_record = i;
                    break;
                }
            }
        }
    } else {
        result->error = X509_STORE_CTX_get_error(verify);
        result->error_depth = X509_STORE_CTX_get_error_depth(verify);
    }
done:
    if (verify != NULL) {
        X509_STORE_CTX_free(verify);
    }
    SSL_free(ssl);
    ERR_clear_error();
    return status;
}

int CMXCheckShims_X509_spki_der(X509 *cert, unsigned char **out) {
    *out = NULL;
    X509_PUBKEY *key = X509_get_X509_PUBKEY(cert);
    if (key == NULL) {
        return -1;
    }
    return i2d_X509_PUBKEY(key, out);
}

int CMXCheckShims_sha512(const unsigned char *data, size_t length, unsigned char *out) {
    unsigned int size = 0;
    return EVP_Digest(data, length, out, &size, EVP_sha512(), NULL) == 1 && size == 64 ? 1 : 0;
}

void CMXCheckShims_malloc_use_one_arena(void) {
    (void)mallopt(M_ARENA_MAX, 1);
}

static void load_ssl_error_strings_once(void) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    /* Deprecated since 3.0 in favour of OPENSSL_init_ssl, which cannot load them once started without. */
    (void)ERR_load_SSL_strings();
#pragma GCC diagnostic pop
}

void CMXCheckShims_load_ssl_error_strings(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, load_ssl_error_strings_once);
}
