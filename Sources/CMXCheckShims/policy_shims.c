#include "CMXCheckShims.h"
#include <string.h>
#include <openssl/x509v3.h>

int CMXCheckShims_X509_check_policy_host(X509 *cert, const char *host) {
    unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
    return X509_check_host(cert, host, strlen(host), flags, NULL) == 1 ? 1 : 0;
}
